"""The patient record: a SQLite database file of patients, sessions, takes, markers, visits, results."""
