"""The Summarizer Space's logic: base, full and LoRA variants on one shared base, batch files, ROUGE, and
cross-attention evidence. `spaces/summarizer/app.py` only wires it to Gradio; nothing here imports Gradio.

- `settings`: `SummarizerSettings.from_env()` (which models, batch limits).
- `variants`: `VariantSpec`, `variant_specs`, `VariantModels` (one base in memory, adapters switched on it).
- `service`: `Summarizer` (summarise one dialogue, a batch file, an evaluation; explain; test dialogues).
- `batch`: `read_batch_file` (CSV/JSONL within limits). `explain`: `explain_summary`, `evidence_html`.
- `results`: `SingleResult`, `BatchResult` (percent ROUGE, the course's comparison table, charts, CSV).
"""

from llmft.settings import SummarizerSettings
from llmft.summarizing.batch import BatchFile, read_batch_file
from llmft.summarizing.explain import Explanation, evidence_html, explain_summary
from llmft.summarizing.results import ROUGE_SCALE, BatchResult, SingleResult
from llmft.summarizing.service import Summarizer
from llmft.summarizing.variants import Variant, VariantModels, VariantSpec, variant_specs

__all__ = [
    "ROUGE_SCALE",
    "BatchFile",
    "BatchResult",
    "Explanation",
    "SingleResult",
    "Summarizer",
    "SummarizerSettings",
    "Variant",
    "VariantModels",
    "VariantSpec",
    "evidence_html",
    "explain_summary",
    "read_batch_file",
    "variant_specs",
]
