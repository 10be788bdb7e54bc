### poetry export -f requirements.txt --only lint
