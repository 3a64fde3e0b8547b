"""The audio studio: the review view (waveform, spectrogram, playback, markers, analysis).

The live recording studio lives beside it (``recording_studio.py``). Array work that does not
need Qt (spectrogram images, waveform min/max levels, audio import) is in Qt-free modules here
(``stethoscan.audio.spectrogram_image``, ``stethoscan.audio.waveform_levels``, ``audio_import.py``) so it runs in workers and
is tested without a display.
"""
