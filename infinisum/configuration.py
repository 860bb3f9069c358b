"""Configuration of the Infini-Transformer encoder-decoder (config is data: one field, one comment).

Validation happens in `__init__`: a bad value raises ValueError naming the field and what is allowed,
so a broken `config.json` fails at load time rather than deep inside a forward pass.
"""

from __future__ import annotations

from transformers import PretrainedConfig

MEMORY_RULES = ("linear", "delta")


class InfiniConfig(PretrainedConfig):
    model_type = "infinisum"
    # names transformers' utilities (caches, generation) look for
    attribute_map = {"hidden_size": "d_model", "num_hidden_layers": "decoder_layers", "num_attention_heads": "n_heads"}

    def __init__(
        self,
        vocab_size: int = 8197,  # ranks of the BPE + special tokens
        d_model: int = 256,  # width of the residual stream
        n_heads: int = 4,  # attention heads; d_head = d_model // n_heads is both d_k and d_v
        d_ff: int = 1024,  # hidden width of the feed-forward blocks
        encoder_layers: int = 4,  # Infini-attention layers, each carrying its own (M, z)
        decoder_layers: int = 2,  # causal self-attention + Infini cross-attention layers
        segment_length: int = 256,  # tokens per encoder segment (N in the paper)
        memory_rule: str = "linear",  # "linear" (eq. 8) or "delta" (eq. 9), for encoder and cross memories
        rope_theta: float = 10000.0,  # rotary base; applied to local Q/K only, restarting every segment
        dropout: float = 0.0,  # dropout on residual branches (training only)
        memory_eps: float = 1e-6,  # guards the memory read's denominator sigma(Q) z
        norm_eps: float = 1e-5,  # RMSNorm epsilon
        init_std: float = 0.02,  # std of the normal init of linear/embedding weights
        encoding: str = "infinisum-8k",  # tokenizer (a shipped .tiktoken ranks file) the model was trained with
        pad_token_id: int = 8192,
        bos_token_id: int = 8193,
        eos_token_id: int = 8194,
        decoder_start_token_id: int | None = None,  # defaults to bos_token_id
        is_encoder_decoder: bool = True,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.d_model = d_model
        self.n_heads = n_heads
        self.d_ff = d_ff
        self.encoder_layers = encoder_layers
        self.decoder_layers = decoder_layers
        self.segment_length = segment_length
        self.memory_rule = memory_rule
        self.rope_theta = rope_theta
        self.dropout = dropout
        self.memory_eps = memory_eps
        self.norm_eps = norm_eps
        self.init_std = init_std
        self.encoding = encoding
        kwargs.setdefault("tie_word_embeddings", True)
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            decoder_start_token_id=bos_token_id if decoder_start_token_id is None else decoder_start_token_id,
            is_encoder_decoder=is_encoder_decoder,
            **kwargs,
        )
        self.validate_fields()

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    def validate_fields(self) -> None:
        positive = ("vocab_size", "d_model", "n_heads", "d_ff", "encoder_layers", "decoder_layers")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.d_model % self.n_heads != 0:
            raise ValueError(
                f"n_heads must divide d_model: d_model={self.d_model} is not divisible by n_heads={self.n_heads}; "
                f"allowed n_heads values: {[h for h in range(1, self.d_model + 1) if self.d_model % h == 0]}"
            )
        if self.d_head % 2 != 0:
            raise ValueError(f"d_model // n_heads must be even for rotary positions, got d_head={self.d_head}")
        if self.memory_rule not in MEMORY_RULES:
            raise ValueError(f"memory_rule must be one of {MEMORY_RULES}, got {self.memory_rule!r}")
        if not isinstance(self.segment_length, int) or self.segment_length < 1:
            raise ValueError(f"segment_length must be an integer >= 1, got {self.segment_length!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        for name in ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value < self.vocab_size:
                raise ValueError(f"{name} must be a token id in [0, vocab_size={self.vocab_size}), got {value!r}")
