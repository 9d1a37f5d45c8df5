# Committed defaults for the flask CLI; secrets and local settings go in .env (ignored).
FLASK_APP=emotune
