"""Random transformations of training images (``TrainingOptions.augment``).

They act on the level sets the networks read: flips and translations commute with
thresholding, so transforming the level sets of an image is transforming the image. Each
draws from the given CPU generator, whatever the batch's device, so that training stays
reproducible.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["compose", "random_horizontal_flip", "random_shift"]


def _check_images(batch: torch.Tensor, name: str) -> None:
    if batch.ndim != 4:
        raise ValueError(f"{name} needs images (n, channels, H, W), got a batch of shape "
                         f"{tuple(batch.shape)}")


def random_horizontal_flip(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each image of ``batch`` (n, channels, H, W) left to right with probability 1/2."""
    _check_images(batch, "random_horizontal_flip")
    flipped = (torch.rand(batch.shape[0], generator=generator) < 0.5).to(batch.device)
    return torch.where(flipped[:, None, None, None], batch.flip(3), batch)


def random_shift(batch: torch.Tensor, generator: torch.Generator,
                 max_shift: int = 1) -> torch.Tensor:
    """Translate each image of ``batch`` (n, channels, H, W) by a uniform random number of
    pixels in ``[-max_shift, max_shift]`` along each axis, the pixels at the edges repeated
    where the image moved away (the networks' ``padding="replicate"``)."""
    _check_images(batch, "random_shift")
    height, width = batch.shape[-2:]
    padded = F.pad(batch, (max_shift,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * max_shift + 1, (2, batch.shape[0]), generator=generator)
    shifted = torch.empty_like(batch)
    for dy in range(2 * max_shift + 1):
        for dx in range(2 * max_shift + 1):
            chosen = ((offsets[0] == dy) & (offsets[1] == dx)).nonzero()[:, 0]
            if chosen.numel():
                chosen = chosen.to(batch.device)
                shifted[chosen] = padded[chosen, :, dy:dy + height, dx:dx + width]
    return shifted


def compose(*augmentations):
    """One augmentation applying ``augmentations`` in order."""
    def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for augmentation in augmentations:
            batch = augmentation(batch, generator)
        return batch
    return augment
