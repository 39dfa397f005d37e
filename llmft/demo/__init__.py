"""The embedded local default: what the apps run on when the Hub cannot be reached, and the tests' tiny models.

- `build`: `python -m llmft.demo build DIR` (`__main__`) writes a tiny T5 with an English tokenizer and trains it
  fully and with LoRA through the real training code, on the package's tiny recipes (`recipes/*.yaml`, package
  data: a wheel carries them), with the demo's lengths and steps.
- `tokenizer`: the demo model's English T5 vocabulary, built offline in milliseconds.
- `dialogues` (with `scenarios`, the twelve everyday scenarios): the varied DialogSum-shaped rows it learns.
- `tiny`: tiny T5 models and LoRA adapters built in a second, for tests, CI and the tiny recipes
  (`python -m llmft.demo.tiny outputs/tiny`).

Nothing is imported here: `llmft.demo.tiny` stays as light as it was.
"""
