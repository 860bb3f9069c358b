"""Finding and loading models: the bundled registry and `load_model(name_or_dir)`.

Bundled models live in `infinisum/models/<name>/` (config.json + model.safetensors), one per memory
rule (`linear`, `delta`). `infinisum/models/registry.json` names the default, the one the model card
declares better, e.g. `{"default": "delta"}`; without it the first installed model is the default.

Anything else saved with `save_pretrained` loads from its directory; its config decides the rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from infinisum.errors import ModelError

MODELS_DIR = Path(__file__).resolve().parent / "models"
REGISTRY_NAME = "registry.json"
BUNDLED_NAMES = ("linear", "delta")
"""The bundled models' names, which are also the memory rules they were trained with."""

MODEL_TYPE = "infinisum"


def bundled_models() -> list[str]:
    """Names of the bundled models that are actually installed (config and weights present)."""
    return [name for name in BUNDLED_NAMES if _is_complete(MODELS_DIR / name)]


def _is_complete(directory: Path) -> bool:
    return (directory / "config.json").is_file() and any(directory.glob("*.safetensors"))


def default_model_name() -> str:
    """The bundled model to use when neither `--memory` nor `--model` is given."""
    installed = bundled_models()
    if not installed:
        raise ModelError(
            f"no bundled model is installed (looked in {MODELS_DIR}); pass --model DIR with a model "
            "saved by `infinisum train` / save_pretrained"
        )
    try:
        declared = json.loads((MODELS_DIR / REGISTRY_NAME).read_text(encoding="utf-8")).get("default")
    except (OSError, ValueError, AttributeError):
        declared = None
    return declared if declared in installed else installed[0]


@dataclass(frozen=True)
class ModelChoice:
    """Where a model comes from: a bundled name or a directory (exactly one is set)."""

    name: str | None = None
    path: Path | None = None

    @property
    def label(self) -> str:
        return self.name if self.name else str(self.path)


def resolve(memory: str | None = None, model: str | None = None) -> ModelChoice:
    """Turn the CLI's `--memory` / `--model` into a `ModelChoice`.

    `--model` wins and may be a bundled name or a directory; `--memory` picks a bundled model.
    """
    if memory and model:
        raise ModelError("give either --memory or --model, not both (a model's config decides its memory rule)")
    target = model or memory
    if target is None:
        return ModelChoice(name=default_model_name())
    if target in BUNDLED_NAMES or (memory and not model):
        return ModelChoice(name=target)
    return ModelChoice(path=Path(target))


def model_directory(name_or_dir: str | Path) -> Path:
    """The directory of a bundled model name or a model directory, checked to hold an infinisum model."""
    text = str(name_or_dir)
    path = Path(text).expanduser()
    if text in BUNDLED_NAMES:  # a bundled name wins; write ./linear for a directory called linear
        if text not in bundled_models():
            raise ModelError(
                f"bundled model {text!r} is not installed; available: {', '.join(bundled_models()) or 'none'} "
                f"(or pass --model DIR)"
            )
        return MODELS_DIR / text
    if not path.exists() and not any(sep in text for sep in ("/", "\\", ".")):
        raise ModelError(
            f"unknown model {text!r}; bundled models: {', '.join(BUNDLED_NAMES)} "
            f"(installed: {', '.join(bundled_models()) or 'none'}), or pass a model directory"
        )
    if not path.is_dir():
        raise ModelError(f"model directory {path} does not exist")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(f"{path} is not an infinisum model: it has no config.json (save one with save_pretrained)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not an infinisum model: cannot read its config.json ({exc})") from None
    kind = config.get("model_type") if isinstance(config, dict) else None
    if kind != MODEL_TYPE:
        raise ModelError(f"{path} is not an infinisum model (its config.json says model_type={kind!r})")
    if not any(path.glob("*.safetensors")):
        raise ModelError(f"{path} has an infinisum config but no *.safetensors weights")
    return path


def load_model(name_or_dir: str | Path, device: str | None = None):
    """Load a bundled model by name or a saved model directory -> (model in eval mode, tokenizer)."""
    directory = model_directory(name_or_dir)
    import torch
    from transformers.utils import logging as hf_logging

    from infinisum.modeling import InfiniForConditionalGeneration
    from infinisum.tokenizer import load_tokenizer

    hf_logging.disable_progress_bar()  # "Loading weights" bars would clutter our own progress
    try:
        # Bundled weights are stored in fp16 to keep the package small; compute in fp32 (CPUs have
        # no fast half-precision path, and the memories are float32 anyway).
        model = InfiniForConditionalGeneration.from_pretrained(str(directory), dtype=torch.float32)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelError(f"cannot load the model in {directory}: {exc}") from None
    tokenizer = load_tokenizer(model.config.encoding)
    if tokenizer.vocab_size > model.config.vocab_size:
        raise ModelError(
            f"model in {directory} has vocab_size {model.config.vocab_size} but its encoding "
            f"{model.config.encoding!r} has {tokenizer.vocab_size} tokens"
        )
    model.eval()
    if device:
        model.to(device)
    return model, tokenizer


def load_choice(choice: ModelChoice, device: str | None = None):
    """`load_model` for a `ModelChoice`."""
    return load_model(choice.name if choice.name else choice.path, device=device)


def encoding_for(memory: str | None = None, model: str | None = None) -> str:
    """The tokenizer a model uses, read from its config.json alone (no weights are loaded).

    Baselines count their budget with it; with no model given and none installed, "gpt2".
    """
    try:
        choice = resolve(memory, model)
        directory = model_directory(choice.name if choice.name else choice.path)
    except ModelError:
        if memory or model:
            raise
        return "gpt2"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    return str(config.get("encoding", "gpt2"))
