"""The bundle format: the contract between the builder and the installer, shipped in ``netbundle.pyz``.

Member layout and the manifest schema (:mod:`.manifest`), the tar writer and verifying reader (:mod:`.tar`),
minisign signatures (:mod:`.minisign`, :mod:`.ed25519`), trust policies (:mod:`.trust`), and the read-only views
both CLIs print (:mod:`.describe`, :mod:`.diff`). Python 3.9 code, standard library only (plus the pure-Python
``ecdsa`` fallback the pyz ships); it imports nothing from the builder side.
"""
