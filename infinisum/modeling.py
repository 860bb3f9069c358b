"""The Infini-Transformer encoder-decoder (see ../shared/DESIGN.md section 2).

    text -> segments of N tokens -> encoder (each layer carries (M, z)) -> final states of the segment
         -> per decoder layer: cross K/V -> written into that layer's cross-memory, kept as "last segment"
    decoder: causal self-attention (KV cache) + Infini cross-attention (cross-memory + last segment) -> LM head

Everything the decoder needs about the text is a constant-size state (`StreamState`), so a summary can be
generated after any prefix of the stream (per chapter) without re-reading.

The cross-memory holds every segment streamed so far, the last one included (so the decoder's memory read
covers the whole text even for a one-segment document); the last segment is also attended to exactly.

Legend: B batch, L total input tokens, N segment length, T decoder tokens, d model width, H heads, dh head width.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint
from transformers import GenerationMixin, PreTrainedModel
from transformers.cache_utils import EncoderDecoderCache
from transformers.modeling_outputs import Seq2SeqLMOutput
from transformers.utils import ModelOutput

from infinisum.attention import CausalSelfAttention, CrossMemoryWriter, InfiniCrossAttention, InfiniSelfAttention
from infinisum.configuration import InfiniConfig
from infinisum.memory import MemoryState, detach_memory, empty_memory, memory_numbers

# ----------------------------------------------------------------------------- blocks


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class FeedForward(nn.Module):
    def __init__(self, config: InfiniConfig):
        super().__init__()
        self.up = nn.Linear(config.d_model, config.d_ff, bias=False)
        self.down = nn.Linear(config.d_ff, config.d_model, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.down(F.gelu(self.up(x)))


class EncoderLayer(nn.Module):
    def __init__(self, config: InfiniConfig):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(config.d_model, config.norm_eps), RMSNorm(config.d_model, config.norm_eps)
        self.attn = InfiniSelfAttention(config)
        self.ff = FeedForward(config)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, mask: Tensor, memory: MemoryState) -> tuple[Tensor, MemoryState]:
        a, memory = self.attn(self.norm1(x), mask, memory)
        x = x + self.drop(a)
        return x + self.drop(self.ff(self.norm2(x))), memory


class DecoderLayer(nn.Module):
    def __init__(self, config: InfiniConfig, layer_idx: int):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = (RMSNorm(config.d_model, config.norm_eps) for _ in range(3))
        self.self_attn = CausalSelfAttention(config, layer_idx)
        self.cross_attn = InfiniCrossAttention(config)
        self.ff = FeedForward(config)
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, cross: "CrossState", cache=None) -> Tensor:
        x = x + self.drop(self.self_attn(self.norm1(x), cache))
        x = x + self.drop(self.cross_attn(self.norm2(x), cross.memory, cross.keys, cross.values, cross.mask))
        return x + self.drop(self.ff(self.norm3(x)))


# ----------------------------------------------------------------------------- recurrent state


@dataclass
class CrossState:
    """What one decoder layer sees of the text: its cross-memory and the last segment's keys/values."""

    memory: MemoryState  # M (B, H, dh, dh), z (B, H, dh), float32
    keys: Tensor  # (B, H, n, dh), n <= N
    values: Tensor  # (B, H, n, dh)
    mask: Tensor  # (B, n) bool


@dataclass
class StreamState:
    """The encoder's whole recurrent state after some prefix of the text. Size independent of its length."""

    encoder_memory: list[MemoryState]  # one (M, z) per encoder layer
    cross: list[CrossState]  # one per decoder layer
    last_hidden: Tensor  # (B, n, d) final encoder states of the last non-empty segment (n <= N)
    tokens_seen: Tensor  # (B,) long, real tokens streamed so far

    def detached(self) -> "StreamState":
        """Truncate back-propagation through time here."""
        return StreamState(
            [detach_memory(m) for m in self.encoder_memory],
            [CrossState(detach_memory(c.memory), c.keys.detach(), c.values.detach(), c.mask) for c in self.cross],
            self.last_hidden.detach(),
            self.tokens_seen,
        )


@dataclass
class InfiniEncoderOutput(ModelOutput):
    """The stream's state in the batch-first tensor form `generate()` expands for beams / samples.

    cross_M: (B, L_d, H, dh, dh); cross_z: (B, L_d, H, dh); cross_keys/cross_values: (B, L_d, H, n, dh);
    last_mask: (B, n); last_hidden_state: (B, n, d); n <= N is the length of the last segment streamed.
    """

    last_hidden_state: Optional[Tensor] = None
    last_mask: Optional[Tensor] = None
    cross_M: Optional[Tensor] = None
    cross_z: Optional[Tensor] = None
    cross_keys: Optional[Tensor] = None
    cross_values: Optional[Tensor] = None

    def cross_states(self) -> list[CrossState]:
        return [
            CrossState(
                MemoryState(self.cross_M[:, i], self.cross_z[:, i]),
                self.cross_keys[:, i],
                self.cross_values[:, i],
                self.last_mask,
            )
            for i in range(self.cross_M.shape[1])
        ]


def _pad_seq(x: Tensor, length: int, dim: int) -> Tensor:
    """Zero/False-pad x along its sequence dimension `dim` (negative) up to `length`."""
    missing = length - x.shape[dim]
    if missing == 0:
        return x
    pad = [0, 0] * (-dim - 1) + [0, missing]
    return F.pad(x, pad)


def _keep_where(live: Tensor, new: Tensor, old: Tensor) -> Tensor:
    """Per batch row: `new` where the row had real tokens in this segment, else `old`. live: (B,)"""
    return torch.where(live.view(-1, *([1] * (new.dim() - 1))), new, old)


# ----------------------------------------------------------------------------- model


class InfiniPreTrainedModel(PreTrainedModel):
    config_class = InfiniConfig
    base_model_prefix = "infini"
    main_input_name = "input_ids"

    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.init_std
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, RMSNorm):
            nn.init.ones_(module.weight)


class _EncoderView:
    """What `generate()` calls as "the encoder": streams input_ids through `model.encode`.

    Not an nn.Module, so no weight is registered twice (embeddings are shared by encoder and decoder).
    """

    def __init__(self, model: "InfiniForConditionalGeneration"):
        self.model = model

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None, **_) -> InfiniEncoderOutput:
        return self.model.encode(input_ids, attention_mask)

    __call__ = forward


class InfiniForConditionalGeneration(InfiniPreTrainedModel, GenerationMixin):
    def __init__(self, config: InfiniConfig):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.d_model)  # shared by encoder, decoder and LM head
        self.encoder_layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.encoder_layers))
        self.encoder_norm = RMSNorm(config.d_model, config.norm_eps)
        self.cross_writers = nn.ModuleList(CrossMemoryWriter(config) for _ in range(config.decoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(config, i) for i in range(config.decoder_layers))
        self.decoder_norm = RMSNorm(config.d_model, config.norm_eps)
        # Training knobs, not part of the saved config:
        self.truncate_bptt: int | None = None  # detach the state every k segments (None: full BPTT across segments)
        self.checkpoint_segments = False  # recompute each segment in backward instead of storing activations
        self.post_init()

    # -- transformers plumbing
    def get_encoder(self, modality=None):
        return _EncoderView(self)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed = value

    # -- sizes (for `infinisum info`)
    def memory_numbers(self) -> int:
        """Floats in all compressive memories (encoder layers + decoder cross-memories); constant in L."""
        c = self.config
        return (c.encoder_layers + c.decoder_layers) * memory_numbers(c.n_heads, c.d_head, c.d_head)

    def kv_cache_numbers(self, n_tokens: int) -> int:
        """Floats a full-attention KV cache would hold for n_tokens of input (K and V, every encoder layer)."""
        return 2 * self.config.encoder_layers * self.config.d_model * n_tokens

    # -- streaming encoder
    def start_stream(self, batch_size: int = 1) -> StreamState:
        """The state before any text: empty memories and an empty (length-0) last segment."""
        c, device, dtype = self.config, self.embed.weight.device, self.embed.weight.dtype
        h, dh = c.n_heads, c.d_head
        return StreamState(
            encoder_memory=[empty_memory(batch_size, h, dh, dh, device) for _ in range(c.encoder_layers)],
            cross=[
                CrossState(
                    empty_memory(batch_size, h, dh, dh, device),
                    torch.zeros(batch_size, h, 0, dh, device=device, dtype=dtype),
                    torch.zeros(batch_size, h, 0, dh, device=device, dtype=dtype),
                    torch.zeros(batch_size, 0, dtype=torch.bool, device=device),
                )
                for _ in range(c.decoder_layers)
            ],
            last_hidden=torch.zeros(batch_size, 0, c.d_model, device=device, dtype=dtype),
            tokens_seen=torch.zeros(batch_size, dtype=torch.long, device=device),
        )

    def stream_segment(self, input_ids: Tensor, attention_mask: Tensor | None, state: StreamState) -> StreamState:
        """Feed one segment (B, n) with n <= segment_length through the encoder; returns the new state.

        A short segment (the end of a text) is not padded to segment_length: it costs only its own length.
        Rows whose segment is all padding (documents that already ended) keep their previous state.
        """
        if input_ids.shape[1] > self.config.segment_length:
            raise ValueError(
                f"a segment holds at most segment_length={self.config.segment_length} tokens, got {input_ids.shape[1]}"
            )
        mask = torch.ones_like(input_ids, dtype=torch.bool) if attention_mask is None else attention_mask.bool()
        if self.checkpoint_segments and self.training:
            return checkpoint(self._segment, input_ids, mask, state, use_reentrant=False)
        return self._segment(input_ids, mask, state)

    def _segment(self, input_ids: Tensor, mask: Tensor, state: StreamState) -> StreamState:
        x = self.embed(input_ids)  # (B, n, d)
        encoder_memory = []
        for layer, memory in zip(self.encoder_layers, state.encoder_memory):
            x, memory = layer(x, mask, memory)
            encoder_memory.append(memory)
        h = self.encoder_norm(x)  # (B, n, d) final states of this segment
        live = mask.any(dim=-1)  # (B,) rows with at least one real token
        n = max(h.shape[1], state.last_hidden.shape[1])  # new and kept segments padded to one length
        cross = []
        for writer, old in zip(self.cross_writers, state.cross):
            k, v, memory = writer(h, mask, old.memory)
            cross.append(
                CrossState(
                    memory,
                    _keep_where(live, _pad_seq(k, n, -2), _pad_seq(old.keys, n, -2)),
                    _keep_where(live, _pad_seq(v, n, -2), _pad_seq(old.values, n, -2)),
                    _keep_where(live, _pad_seq(mask, n, -1), _pad_seq(old.mask, n, -1)),
                )
            )
        return StreamState(
            encoder_memory=encoder_memory,
            cross=cross,
            last_hidden=_keep_where(live, _pad_seq(h, n, -2), _pad_seq(state.last_hidden, n, -2)),
            tokens_seen=state.tokens_seen + mask.sum(dim=-1),
        )

    def encoder_output(self, state: StreamState) -> InfiniEncoderOutput:
        """The state as the batch-first ModelOutput that `generate(encoder_outputs=...)` takes."""
        return InfiniEncoderOutput(
            last_hidden_state=state.last_hidden,
            last_mask=state.cross[0].mask,
            cross_M=torch.stack([c.memory.M for c in state.cross], dim=1),
            cross_z=torch.stack([c.memory.z for c in state.cross], dim=1),
            cross_keys=torch.stack([c.keys for c in state.cross], dim=1),
            cross_values=torch.stack([c.values for c in state.cross], dim=1),
        )

    def encode_state(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> StreamState:
        """Stream a whole (B, L) input segment by segment; L need not be a multiple of segment_length."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids, dtype=torch.bool)
        state = self.start_stream(input_ids.shape[0])
        n = self.config.segment_length
        for i, start in enumerate(range(0, input_ids.shape[1], n)):
            if self.training and self.truncate_bptt and i > 0 and i % self.truncate_bptt == 0:
                state = state.detached()
            state = self.stream_segment(input_ids[:, start : start + n], attention_mask[:, start : start + n], state)
        return state

    def encode(self, input_ids: Tensor, attention_mask: Tensor | None = None) -> InfiniEncoderOutput:
        return self.encoder_output(self.encode_state(input_ids, attention_mask))

    # -- decoder
    def decode(self, decoder_input_ids: Tensor, encoder_outputs: InfiniEncoderOutput, cache=None) -> Tensor:
        """Logits (B, T, V) for decoder tokens given the text's state."""
        self_cache = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
        x = self.embed(decoder_input_ids)  # (B, T, d)
        for layer, cross in zip(self.decoder_layers, encoder_outputs.cross_states()):
            x = layer(x, cross, self_cache)
        return F.linear(self.decoder_norm(x), self.embed.weight)  # tied LM head

    def shift_right(self, labels: Tensor) -> Tensor:
        """Teacher forcing: decoder inputs are [start] + labels[:-1], with ignored (-100) labels as padding."""
        shifted = labels.new_full(labels.shape, self.config.pad_token_id)
        shifted[:, 1:] = labels[:, :-1]
        shifted[:, 0] = self.config.decoder_start_token_id
        return shifted.masked_fill(shifted == -100, self.config.pad_token_id)

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        decoder_input_ids: Tensor | None = None,
        labels: Tensor | None = None,
        encoder_outputs: InfiniEncoderOutput | None = None,
        cache=None,
        use_cache: bool | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> Seq2SeqLMOutput:
        """labels: (B, T) target ids with -100 where ignored; the loss is token-level cross entropy."""
        if encoder_outputs is None:
            if input_ids is None:
                raise ValueError("forward needs input_ids or encoder_outputs")
            encoder_outputs = self.encode(input_ids, attention_mask)
        if decoder_input_ids is None:
            if labels is None:
                raise ValueError("forward needs decoder_input_ids or labels")
            decoder_input_ids = self.shift_right(labels)
        logits = self.decode(decoder_input_ids, encoder_outputs, cache)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=-100)
        return Seq2SeqLMOutput(
            loss=loss, logits=logits, cache=cache, encoder_last_hidden_state=encoder_outputs.last_hidden_state
        )

    def prepare_inputs_for_generation(
        self, decoder_input_ids, cache=None, encoder_outputs=None, use_cache=None, **kwargs
    ):
        """Feed only the tokens the cache has not seen yet."""
        if cache is not None and use_cache is not False:
            past = cache.get_seq_length()
            decoder_input_ids = decoder_input_ids[:, past:]
        else:
            cache = None
        return {"decoder_input_ids": decoder_input_ids, "encoder_outputs": encoder_outputs, "cache": cache}

    def parameter_groups(self, weight_decay: float, lr: float, gate_lr: float) -> list[dict]:
        """Optimizer groups: gates alone (larger lr, no decay); matrices with decay; norms/embeddings without."""
        gates, decay, no_decay = [], [], []
        for name, p in self.named_parameters():
            if not p.requires_grad:
                continue
            if name.endswith("gate.beta"):
                gates.append(p)
            elif p.ndim >= 2 and "embed" not in name:
                decay.append(p)
            else:
                no_decay.append(p)
        return [
            {"params": decay, "weight_decay": weight_decay, "lr": lr, "name": "matrices"},
            {"params": no_decay, "weight_decay": 0.0, "lr": lr, "name": "norms_embeddings"},
            {"params": gates, "weight_decay": 0.0, "lr": gate_lr, "name": "gates"},
        ]
