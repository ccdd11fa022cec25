"""The variants of each experiment table: the paper's ablations (Tables 3-5), the baselines (Table 6)
and the efficient-attention comparison.

Each table is an ordered list of :class:`Variant`; the first is the reference (the full model of the
chosen preset) against which every other row is tested. A variant is either the preset with config
overrides (``overrides``) or a baseline network of :mod:`pscgan.baselines` (``baseline``).

Example:
    >>> [v.name for v in variants_of(ExperimentTable.TABLE3)]
    ['full', 'adversarial_off', 'progressive_off', 'conv3d']
    >>> variants_of("table5")[0].label
    'PSCGAN (hinge)'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from pscgan.config.schema import EncoderKind
from pscgan.errors import ConfigError


class ExperimentTable(str, Enum):
    """An experiment: the paper's Tables 3-6 or the efficient-attention comparison."""

    TABLE3 = "table3"
    TABLE4 = "table4"
    TABLE5 = "table5"
    TABLE6 = "table6"
    EFFICIENCY = "efficiency"


@dataclass(frozen=True)
class Variant:
    """One row of an experiment table.

    Attributes:
        name: folder-safe identifier (``EXP/<name>/seed<k>/``).
        label: the row title, as in the paper where the paper has the row.
        overrides: ``section.field=value`` changes applied to the preset (``None`` for a baseline).
        baseline: kind of :mod:`pscgan.baselines` network (``None`` for a PSCGAN variant).
        note: why the overrides are what they are, where that is not obvious.
    """

    name: str
    label: str
    overrides: tuple[str, ...] | None = ()
    baseline: str | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["overrides"] = None if self.overrides is None else list(self.overrides)
        return data


FULL = Variant("full", "PSCGAN")

# The schema applies the pathway and attention switches to the SCLN only, so a replaced encoder
# resets them (a preset with a cheaper attention setting would otherwise be refused).
_OTHER_ENCODER = ("model.attention=full", "model.pathways=both")
# "Attention removed" must also stop the preset's full attention at small blocks.
_NO_ATTENTION = ("model.attention=none", "model.full_attention_max_positions=0")
# Full attention up to the two deepest blocks of the paper's 25 x 64 x 64 input (25*8*8 tokens).
_DEEP_FULL = "model.full_attention_max_positions=1600"


def _encoder(name: str, kind: str, label: str) -> Variant:
    return Variant(name, label, (f"model.encoder={kind}", *_OTHER_ENCODER))


TABLES: dict[ExperimentTable, tuple[Variant, ...]] = {
    ExperimentTable.TABLE3: (
        FULL,
        Variant(
            "adversarial_off",
            "Adversarial learning removed",
            (
                "loss.adversarial=none",
                "loss.content=false",
                "loss.auxiliary=false",
            ),
            note="without a discriminator the feature content and auxiliary losses do not exist; a pixel L1 "
            "(the preset's, or weight 1 if it has none) takes the content loss's place so that phase II "
            "still learns the LGE",
        ),
        Variant("progressive_off", "Progressive training removed", ("model.progressive=false",)),
        _encoder("conv3d", "conv3d", "Sequential causal learning removed (3DConv)"),
    ),
    ExperimentTable.TABLE4: (
        Variant("full", "Full SCLN"),
        Variant("spatial_only", "Spatial perceptual pathway only", ("model.pathways=spatial",)),
        Variant("temporal_only", "Temporal perceptual pathway only", ("model.pathways=temporal",)),
        Variant("attention_off", "Multi-attention weighing removed", _NO_ATTENTION),
        _encoder("convlstm", "convlstm", "ConvLSTM"),
        _encoder("conv3d_lstm", "conv3d_lstm", "3DConv+LSTM"),
        _encoder("conv2d_conv1d", "conv2d_conv1d", "2DConv+1DConv"),
        _encoder("lstm_conv2d", "lstm_conv2d", "LSTM+2DConv"),
        _encoder("gru_conv2d", "gru_conv2d", "GRU+2DConv"),
        _encoder("rnn_conv2d", "rnn_conv2d", "RNN+2DConv"),
    ),
    ExperimentTable.TABLE5: (
        Variant("full", "PSCGAN (hinge)"),
        Variant(
            "regularisation_off", "Synthetic regularization loss removed", ("loss.regularisation=false",)
        ),
        Variant("auxiliary_off", "Segmentation auxiliary loss removed", ("loss.auxiliary=false",)),
        Variant("wgan_gp", "WGAN-GP adversarial loss", ("loss.adversarial=wgan_gp",)),
        Variant("lsgan", "LSGAN adversarial loss", ("loss.adversarial=lsgan",)),
    ),
    ExperimentTable.TABLE6: (
        FULL,
        Variant("scar_unet3d", "3D U-Net scar segmentation", None, baseline="scar_unet3d"),
        Variant("pix2pix", "pix2pix (cine to LGE)", None, baseline="pix2pix"),
        Variant("monai_unet", "MONAI U-Net segmentation", None, baseline="monai_unet"),
    ),
    ExperimentTable.EFFICIENCY: (
        Variant("full_attention", "SCLN, full attention (paper)", ("model.attention=full",)),
        Variant(
            "factorised",
            "SCLN, factorised attention",
            ("model.attention=factorised", "model.full_attention_max_positions=0"),
        ),
        Variant(
            "factorised_deep_full",
            "SCLN, factorised attention, full at deep blocks",
            ("model.attention=factorised", _DEEP_FULL),
        ),
        Variant(
            "none_deep_full",
            "SCLN, no attention at large blocks, full at deep blocks",
            ("model.attention=none", _DEEP_FULL),
            note="the cpu preset's setting",
        ),
    ),
}


#: Tables that ablate the SCLN encoder itself (its pathways and attention): their reference must be one.
SCLN_TABLES = (ExperimentTable.TABLE4, ExperimentTable.EFFICIENCY)


def check_table_applies(table: ExperimentTable, encoder: EncoderKind) -> None:
    """Refuse a table whose rows ablate the SCLN when the reference configuration has another encoder.

    Raises:
        ConfigError: naming the table and the ``--set`` that makes it apply.

    Example:
        >>> check_table_applies(ExperimentTable.TABLE5, EncoderKind.FRAME_STACK)  # any encoder
        >>> check_table_applies(ExperimentTable.TABLE4, EncoderKind.SCLN)
    """
    if table in SCLN_TABLES and encoder is not EncoderKind.SCLN:
        raise ConfigError(None, f"{table.value} ablates the SCLN encoder, but the configuration uses the "
                                f"{encoder.value} encoder (the cpu preset's); add --set model.encoder=scln "
                                "(the cpu preset's former SCLN setting also adds --set model.attention=none "
                                "--set model.full_attention_max_positions=1600)")


def variants_of(table: ExperimentTable | str, only: list[str] | None = None) -> list[Variant]:
    """The variants of ``table`` in table order (reference first), optionally only those named.

    Raises:
        ConfigError: unknown table or variant name (the message lists the known ones).
    """
    try:
        table = ExperimentTable(table)
    except ValueError:
        known = ", ".join(t.value for t in ExperimentTable)
        raise ConfigError(None, f"unknown experiment {table!r}; choose one of {known}") from None
    variants = list(TABLES[table])
    if only:
        names = [v.name for v in variants]
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ConfigError(
                None,
                f"{table.value} has no variant {', '.join(unknown)}; its variants are {', '.join(names)}",
            )
        variants = [v for v in variants if v.name in only]
    return variants
