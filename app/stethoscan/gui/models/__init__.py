"""The clinical AI panels: which models fit the data shown, running them, and their results.

- :mod:`model_fit`: what data is in front of the clinician and which packages fit it (Qt-free);
- :mod:`prediction_request`: the job run in the inference pool, and how results are saved
  with the patient's session (Qt-free);
- :mod:`model_panel`, :mod:`results_panel`, :mod:`model_card_dialog`: the widgets; the results
  panel's parts live in :mod:`result_cycles_table`, :mod:`result_saliency_display`,
  :mod:`result_history` and :mod:`saliency_caution`.
"""
