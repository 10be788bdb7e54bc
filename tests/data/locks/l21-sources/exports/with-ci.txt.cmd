### poetry export -f requirements.txt --with ci
