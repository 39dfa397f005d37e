"""What the Spaces share, and each Space's page as a function.

- `settings`, `errors`, `memory`, `demo_note`: deployment settings, errors for the UI, the malloc cap, the demo
  model's note (no Gradio at module level);
- `services`: what each page needs from its services (`typing.Protocol`s, and a dataclass per Space);
- `serve`: the queue and launch footer and the small pieces every page shares;
- `shopbot`, `summarizer`, `prompting`: `build_app(settings, services) -> gr.Blocks` and `launch(demo, settings)`,
  with their endpoints in `<space>_endpoints`.

A Space's own logic lives in its part of the package (`llmft.chat`, `llmft.summarizing`, `llmft.prompting`);
`spaces/<name>/app.py` reads the settings, makes the services in `main()`, builds the page and serves it.
Importing any of these starts nothing.
"""
