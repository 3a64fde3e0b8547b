"""Panels of the patient's record: cognitive test scores over visits (:mod:`clinical_scores`)."""
