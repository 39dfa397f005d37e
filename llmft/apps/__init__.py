"""What every Space shares: deployment settings (`settings`) and errors for the UI (`errors`).

A Space's own logic lives in its part of the package (`llmft.prompting`, ...); `spaces/<name>/app.py`
wires that logic and this layer to Gradio. Nothing here imports Gradio at module level.
"""
