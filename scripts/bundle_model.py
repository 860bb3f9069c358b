"""Copy a trained checkpoint into the package (fp16 safetensors) as a bundled model.

    python scripts/bundle_model.py runs/delta/checkpoint-best delta --dev-overall 7.9 [--force]

The checkpoint replaces infinisum/models/<name>/ only if its dev Overall (measured with
`infinisum evaluate` on the same dev set) beats the one recorded in infinisum/models/registry.json,
unless --force: the repository keeps only weights that improved.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch

from infinisum.evaluation import write_atomic
from infinisum.modeling import InfiniForConditionalGeneration

MODELS = Path(__file__).resolve().parents[1] / "infinisum" / "models"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("name", choices=["linear", "delta"])
    parser.add_argument("--dev-overall", type=float, required=True, help="dev Overall ROUGE of this checkpoint")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()

    registry_file = MODELS / "registry.json"
    registry = json.loads(registry_file.read_text()) if registry_file.is_file() else {}
    models = registry.setdefault("models", {})
    previous = models.get(args.name, {}).get("dev_overall")
    if previous is not None and args.dev_overall <= previous and not args.force:
        raise SystemExit(
            f"{args.name}: dev Overall {args.dev_overall} does not beat the bundled {previous}; not replaced"
        )

    model = InfiniForConditionalGeneration.from_pretrained(args.checkpoint, dtype=torch.float32)
    target = MODELS / args.name
    with tempfile.TemporaryDirectory(dir=MODELS) as tmp:
        model.half().save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(tmp, target)
        Path(tmp).mkdir()  # TemporaryDirectory cleans up the (now empty) name
    target.chmod(0o755)  # TemporaryDirectory made it private
    for f in target.iterdir():
        f.chmod(0o644)
    models[args.name] = {"dev_overall": args.dev_overall, "source": str(args.checkpoint)}
    better = max(models, key=lambda k: models[k]["dev_overall"])
    registry["default"] = better
    write_atomic(registry_file, json.dumps(registry, indent=2) + "\n")
    size = sum(f.stat().st_size for f in target.iterdir()) / 1e6
    print(f"bundled {args.name} ({size:.1f} MB) from {args.checkpoint}; default is now {better}")


if __name__ == "__main__":
    main()
