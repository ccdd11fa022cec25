"""The anatomy network: LV detection and blood-pool / myocardium segmentation on full short-axis frames.

The cascade sees a small crop around the LV and learned its anatomy from the phantom. This package is
the part that has seen real scans: a frame-wise 2D U-Net (MONAI) trained on real ACDC ED/ES frames and
phantom frames, run on the whole field of view at a fixed pixel spacing. Its output finds the LV in each
slice (centre, size, confidence: :mod:`.localise`), sets the field of view of the cascade's crop, and
gives the blood pool and myocardium of the final segmentation, inside which the cascade marks scar.

Modules: :mod:`.frames` (data sources to normalised frame pairs), :mod:`.augment` (random spatial and
intensity augmentation, parameters recorded), :mod:`.network` (configuration and the U-Net),
:mod:`.train` (the training loop), :mod:`.model` (loading weights and segmenting slices) and
:mod:`.localise` (from probability maps to one LV per slice, consistent over the stack).
"""
