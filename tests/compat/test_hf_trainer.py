"""A Hugging Face ``Trainer`` with ``report_to="wandb"``, unmodified, logs into lablens.

The model is a one-layer GPT-2 made from a config (no weights are downloaded) trained on a few
random token sequences on the CPU; what matters is that the integration's own ``wandb`` calls
land as an ordinary lablens run.
"""

from __future__ import annotations

import math

from clients import client_json

from lablens import Api

TRAIN = """
import json, os
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

torch.manual_seed(0)
config = GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=64, n_positions=16,
                    bos_token_id=0, eos_token_id=0)
model = GPT2LMHeadModel(config)


class Tokens(torch.utils.data.Dataset):
    def __init__(self):
        self.ids = torch.randint(0, 64, (64, 16))

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


args = TrainingArguments(
    output_dir="out", report_to="wandb", run_name="tiny-gpt2", max_steps=30,
    logging_steps=1, per_device_train_batch_size=8, learning_rate=1e-2, save_strategy="no",
    use_cpu=True, disable_tqdm=True,
)
trainer = Trainer(model=model, args=args, train_dataset=Tokens())
trainer.train()
import wandb
run_id = wandb.run.id
wandb.finish()
losses = [(h["step"], h["loss"]) for h in trainer.state.log_history if "loss" in h]
print(json.dumps({"run_id": run_id, "losses": losses}))
"""


def test_trainer_logs_its_loss_curve_into_lablens(server, make_project, tmp_path) -> None:
    project = make_project()
    env = {
        "WANDB_BASE_URL": server.url,
        "WANDB_API_KEY": server.api_key,
        "WANDB_ENTITY": server.username,
        "WANDB_PROJECT": project.name,
        "WANDB_SILENT": "true",
        "WANDB_ERROR_REPORTING": "false",
        "WANDB_DISABLE_GIT": "true",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    out = client_json("hf", TRAIN, env=env, cwd=tmp_path, timeout=600)
    assert len(out["losses"]) == 30

    run = Api(api_key=server.api_key, host=server.url).run(
        f"{server.username}/{project.name}/{out['run_id']}"
    )
    assert run.name == "tiny-gpt2"
    assert run.state == "finished"
    rows = run.scan_history(keys=["train/loss", "train/global_step"])
    logged = [(int(r["train/global_step"]), r["train/loss"]) for r in rows]
    assert len(logged) == 30
    for (step, loss), (want_step, want_loss) in zip(logged, out["losses"], strict=True):
        assert step == want_step
        # The integration rounds nothing: the value wandb sent is the one Trainer computed.
        assert math.isclose(loss, want_loss, rel_tol=1e-6)
    assert run.config["max_steps"] == 30
    assert run.config["learning_rate"] == 1e-2
