"""From the fine-grid object to scanner images: k-space truncation, coils, noise and scanner effects.

* **k-space**: the fine image's spectrum is truncated to the acquired resolution (a rectangular window:
  Gibbs ringing) and the central ``n_out x n_out`` block is inverse transformed, which is the scanner's
  zero-filled interpolation to the written pixel spacing. Sub-pixel sampling offsets, the rigid cardiac
  translation and a small Gaussian blur are phase ramps / a Gaussian in k-space.
* **temporal blur**: each cine frame is the average over its acquisition window of the frames linearly
  interpolated in time, i.e. ``(1 - 2w) f_k + w (f_k-1 + f_k+1)`` with ``w = window / (8 frame interval)``.
* **coils and noise**: ``N`` coil elements in an anterior and a posterior array give the net shading
  ``|s| = sqrt(sum |s_c|^2)`` (brighter anteriorly, scaled to the sampled peak-to-peak variation). With
  independent complex Gaussian noise per coil, the sensitivity-weighted (Roemer) combination
  ``sum s_c* y_c / |s|`` is ``|s| m + n`` with ``n`` complex Gaussian of the per-coil variance, so its
  magnitude is exactly Rician (the spec's default); PSIR keeps the signed, phase-corrected real part
  (Gaussian). A plain root-sum-of-squares would add a ``chi_2N`` noise floor of ``sqrt(2N) sigma``,
  which turns nulled myocardium grey with 32 coils; see docs/phantom.md. ``sigma`` follows from the
  sampled SNR of the reference tissue (myocardium in cine, scar in LGE).
* **scanner**: pulsatile ghosts along the phase-encoding direction, 3T bSSFP dark bands, gain and 12-bit
  quantisation.

Example:
    >>> import numpy as np
    >>> f = np.zeros((1, 32, 32), np.float32); f[0, 8:24, 8:24] = 1.0
    >>> out = kspace_resample(f, 8, np.array([1.0]), 4.0, np.zeros((1, 2)), 0.0)
    >>> out.shape, round(float(out.mean()), 3)
    ((1, 8, 8), 0.25)
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy import ndimage

from pscgan.phantom.raster import OVERSAMPLING

#: Scanner units per unit of PD-normalised signal at gain 1 (myocardium lands near 200).
SCANNER_SCALE = 3000.0
QUANTISATION_MAX = 4095


def kspace_resample(fine: np.ndarray, n_out: int, acquired_mm: np.ndarray, spacing_mm: float,
                    shift_px: np.ndarray, blur_px: float) -> np.ndarray:
    """Truncate each frame's k-space to its acquired resolution and sample the written grid.

    Args:
        fine: ``(frames, n, n)`` fine-grid images, ``n = OVERSAMPLING * n_out``.
        n_out: written grid size.
        acquired_mm: ``(frames,)`` acquired in-plane resolution.
        spacing_mm: written pixel spacing.
        shift_px: ``(frames, 2)`` content shift in written pixels along (row, col).
        blur_px: Gaussian blur sigma in written pixels.

    Returns:
        ``(frames, n_out, n_out)`` float32 real images.
    """
    frames, n, _ = fine.shape
    half = n_out // 2
    spec = scipy.fft.rfft(fine, axis=-1)[..., : half + 1]
    spec = scipy.fft.fft(spec, axis=-2)
    spec = np.concatenate([spec[:, :half], spec[:, n - half:]], axis=1)
    fy = np.fft.fftfreq(n_out)[:, None]     # cycles per written pixel
    fx = np.fft.rfftfreq(n_out)[None, :]
    offset = (OVERSAMPLING - 1) / (2.0 * OVERSAMPLING)  # fine index of the written pixel centre
    cutoff = np.minimum(spacing_mm / (2.0 * acquired_mm), 0.5 - 1e-9)[:, None, None]
    window = (np.abs(fy)[None] < cutoff) & (np.abs(fx)[None] < cutoff)
    ramp = np.exp(2j * np.pi * (fy[None] * (offset - shift_px[:, 0, None, None])
                                + fx[None] * (offset - shift_px[:, 1, None, None])))
    gauss = np.exp(-2.0 * (np.pi * blur_px) ** 2 * (fy**2 + fx**2))
    spec = spec * (window * ramp * gauss * (n_out / n) ** 2).astype(np.complex64)
    return scipy.fft.irfft2(spec, s=(n_out, n_out), axes=(-2, -1)).astype(np.float32)


def temporal_blur(frames: np.ndarray, window_ms: float, frame_ms: float) -> np.ndarray:
    """Average over the acquisition window of the linearly interpolated, periodic cine."""
    w = float(np.clip(window_ms / (8.0 * frame_ms), 0.0, 0.25))
    return ((1.0 - 2.0 * w) * frames + w * (np.roll(frames, 1, axis=0) + np.roll(frames, -1, axis=0))).astype(
        np.float32)


def coil_shading(n_out: int, spacing_mm: float, center_rc: tuple[float, float], n_coils: int,
                 angle_deg: float, peak_to_peak: float, crop: slice) -> np.ndarray:
    """Root-sum-of-squares sensitivity ``|s|`` of two coil arrays (anterior, closer; posterior), scaled to
    mean 1 and the given peak-to-peak variation over the written crop."""
    rows, cols = np.mgrid[0:n_out, 0:n_out].astype(float)
    x = (cols - center_rc[1]) * spacing_mm
    y = -(rows - center_rc[0]) * spacing_mm
    d = np.deg2rad(angle_deg)
    normal, tangent = np.array([np.cos(d), np.sin(d)]), np.array([-np.sin(d), np.cos(d)])
    n_front = (n_coils + 1) // 2
    loop = 60.0  # coil element radius (mm) [E]
    total = np.zeros_like(x)
    for count, distance in ((n_front, 90.0), (n_coils - n_front, -150.0)):
        for t in np.linspace(-120.0, 120.0, count):
            px, py = normal * distance + tangent * t
            total += loop**6 / (loop**2 + (x - px) ** 2 + (y - py) ** 2) ** 3  # |B|^2 of a loop
    s = np.sqrt(total)
    region = s[crop, crop]
    s = (s - region.mean()) / max(float(region.max() - region.min()), 1e-12)
    return (1.0 + peak_to_peak * s).astype(np.float32)


def coil_combine(signal: np.ndarray, shading: np.ndarray, sigma: float, rng: np.random.Generator, *,
                 signed: bool = False) -> np.ndarray:
    """Noisy sensitivity-weighted coil combination of a real object ``signal``: Rician magnitude, or the
    signed phase-corrected real part for PSIR (Gaussian noise)."""
    shape = signal.shape
    weighted = shading * signal + rng.standard_normal(shape, dtype=np.float32) * sigma
    if signed:
        return weighted.astype(np.float32)
    quadrature = rng.standard_normal(shape, dtype=np.float32) * sigma
    return np.sqrt(weighted**2 + quadrature**2).astype(np.float32)


def add_ghosts(frames: np.ndarray, amplitude: float, shift_px: int, axis: int, *,
               pulsatile: bool) -> np.ndarray:
    """Ghost copies along the phase-encoding axis (``axis`` 0: rows, 1: cols of each frame): of the
    moving part of the cine (``pulsatile``) or of the whole image."""
    if amplitude <= 0:
        return frames
    source = frames - frames.mean(axis=0, keepdims=True) if pulsatile else frames
    ghost = 0.5 * (np.roll(source, shift_px, axis=axis + 1) + np.roll(source, -shift_px, axis=axis + 1))
    return (frames + amplitude * ghost).astype(np.float32)


def banding_factor(n_out: int, spacing_mm: float, center_rc: tuple[float, float], depth: float,
                   period_mm: float, angle_deg: float, phase_rad: float, lung_phase_rad: float,
                   lung: np.ndarray) -> np.ndarray:
    """Multiplicative bSSFP off-resonance banding: dark where the field's phase crosses pi."""
    rows, cols = np.mgrid[0:n_out, 0:n_out].astype(float)
    d = np.deg2rad(angle_deg)
    along = (cols - center_rc[1]) * spacing_mm * np.cos(d) - (rows - center_rc[0]) * spacing_mm * np.sin(d)
    lung_near = ndimage.gaussian_filter(lung.astype(float), 5.0 / spacing_mm)
    psi = phase_rad + 2 * np.pi * along / period_mm + lung_phase_rad * lung_near
    wrapped = np.angle(np.exp(1j * (psi - np.pi)))
    return (1.0 - depth * np.exp(-0.5 * (wrapped / 0.35) ** 2)).astype(np.float32)


def quantise(image: np.ndarray, gain: float, *, signed: bool = False) -> np.ndarray:
    """Scanner gain and 12-bit integer storage (values kept as float32)."""
    low = -QUANTISATION_MAX - 1 if signed else 0
    return np.clip(np.rint(image * (SCANNER_SCALE * gain)), low, QUANTISATION_MAX).astype(np.float32)
