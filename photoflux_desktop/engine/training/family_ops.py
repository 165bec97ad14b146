"""What differs per model family in training: prompt encoding, latents, the loss.

SD and SDXL learn to predict the noise (or v) added at a DDPM timestep; FLUX learns
the flow-matching velocity (noise - latents) at a sigma, on packed 2x2 latents. Text
embeddings and latents are computed once (`encode_*`) and cached by the trainer; the
loss takes the cached tensors and a generator, so a given step always draws the same
noise and timesteps (resume depends on that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

LORA_TARGETS = {
    "unet": ["to_q", "to_k", "to_v", "to_out.0"],
    # FLUX blocks: image and text attention, and the single blocks' projections
    "transformer": [
        "to_q",
        "to_k",
        "to_v",
        "to_out.0",
        "add_q_proj",
        "add_k_proj",
        "add_v_proj",
        "to_add_out",
        "proj_mlp",
        "proj_out",
    ],
}
PIPELINES = {
    "sd": "StableDiffusionPipeline",
    "sdxl": "StableDiffusionXLPipeline",
    "flux": "FluxPipeline",
}
SAMPLING = {"sd": (25, 7.0), "sdxl": (25, 6.0), "flux": (4, 0.0)}  # steps, guidance


@dataclass
class Prompt:
    """One caption's cached text features, batch dimension 1, on the training device."""

    embeds: torch.Tensor
    pooled: torch.Tensor | None = None
    text_ids: torch.Tensor | None = None  # FLUX only


class FamilyOps:
    family = "sd"
    denoiser_name = "unet"

    def __init__(self, pipe: Any, device: torch.device, dtype: torch.dtype) -> None:
        self.pipe = pipe
        self.device = device
        self.dtype = dtype

    @property
    def denoiser(self) -> Any:
        return getattr(self.pipe, self.denoiser_name)

    @torch.no_grad()
    def encode_prompt(self, text: str) -> Prompt:
        embeds, _ = self.pipe.encode_prompt(text, self.device, 1, False)
        return Prompt(embeds.to(self.dtype))

    @torch.no_grad()
    def encode_image(self, pixels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """pixels: (1, 3, H, W) in [-1, 1] -> scaled latents (1, C, h, w)."""
        vae = self.pipe.vae
        dist = vae.encode(pixels.to(self.device, vae.dtype)).latent_dist
        sample = dist.mean + dist.std * _randn(dist.mean.shape, generator, dist.mean)
        return self._scale(sample).to(self.dtype)

    def _scale(self, latents: torch.Tensor) -> torch.Tensor:
        return latents * self.pipe.vae.config.scaling_factor

    def prepare(self) -> None:
        """Anything the loss needs once: the training noise schedule."""
        from diffusers import DDPMScheduler

        self.scheduler = DDPMScheduler.from_config(self.pipe.scheduler.config)
        self.alphas = self.scheduler.alphas_cumprod.to(self.device)

    def loss(
        self, latents: torch.Tensor, prompts: list[Prompt], generator: torch.Generator
    ) -> torch.Tensor:
        batch = latents.shape[0]
        noise = _randn(latents.shape, generator, latents)
        steps = self.scheduler.config.num_train_timesteps
        timesteps = torch.randint(0, steps, (batch,), generator=generator).to(self.device)
        noisy = self.scheduler.add_noise(latents, noise, timesteps)
        pred = self.denoiser(
            noisy,
            timesteps,
            encoder_hidden_states=torch.cat([p.embeds for p in prompts]),
            return_dict=False,
            **self._extra(prompts, latents),
        )[0]
        if self.scheduler.config.prediction_type == "v_prediction":
            target = self.scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        return torch.nn.functional.mse_loss(pred.float(), target.float())

    def _extra(self, prompts: list[Prompt], latents: torch.Tensor) -> dict[str, Any]:
        return {}

    def sample_kwargs(self, prompt: Prompt, negative: Prompt, guidance: float) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"prompt_embeds": prompt.embeds, "guidance_scale": guidance}
        if guidance > 1.0:
            kwargs["negative_prompt_embeds"] = negative.embeds
        return kwargs


class SdxlOps(FamilyOps):
    family = "sdxl"

    @torch.no_grad()
    def encode_prompt(self, text: str) -> Prompt:
        embeds, _, pooled, _ = self.pipe.encode_prompt(
            text, device=self.device, num_images_per_prompt=1, do_classifier_free_guidance=False
        )
        return Prompt(embeds.to(self.dtype), pooled.to(self.dtype))

    def _extra(self, prompts: list[Prompt], latents: torch.Tensor) -> dict[str, Any]:
        # original size, crop corner, target size: square crops, no crop offset
        side = latents.shape[-1] * self.pipe.vae_scale_factor
        ids = torch.tensor([[side, side, 0, 0, side, side]], device=self.device, dtype=self.dtype)
        pooled = torch.cat([p.pooled for p in prompts if p.pooled is not None])
        return {
            "added_cond_kwargs": {
                "text_embeds": pooled,
                "time_ids": ids.repeat(latents.shape[0], 1),
            }
        }

    def sample_kwargs(self, prompt: Prompt, negative: Prompt, guidance: float) -> dict[str, Any]:
        kwargs = super().sample_kwargs(prompt, negative, guidance)
        kwargs["pooled_prompt_embeds"] = prompt.pooled
        if guidance > 1.0:
            kwargs["negative_pooled_prompt_embeds"] = negative.pooled
        return kwargs


class FluxOps(FamilyOps):
    family = "flux"
    denoiser_name = "transformer"

    @torch.no_grad()
    def encode_prompt(self, text: str) -> Prompt:
        embeds, pooled, text_ids = self.pipe.encode_prompt(
            text, prompt_2=None, device=self.device, num_images_per_prompt=1
        )
        return Prompt(embeds.to(self.dtype), pooled.to(self.dtype), text_ids)

    def _scale(self, latents: torch.Tensor) -> torch.Tensor:
        config = self.pipe.vae.config
        return (latents - config.shift_factor) * config.scaling_factor

    def prepare(self) -> None:
        self.guidance = bool(self.denoiser.config.guidance_embeds)  # dev yes, schnell no

    def loss(
        self, latents: torch.Tensor, prompts: list[Prompt], generator: torch.Generator
    ) -> torch.Tensor:
        from diffusers import FluxPipeline

        batch, channels, height, width = latents.shape
        noise = _randn(latents.shape, generator, latents)
        # logit-normal sigmas (SD3/FLUX training): most weight on the middle of the path
        sigmas = torch.sigmoid(torch.randn((batch,), generator=generator)).to(self.device)
        sigma = sigmas.view(-1, 1, 1, 1).to(latents.dtype)
        noisy = (1.0 - sigma) * latents + sigma * noise
        pack = FluxPipeline._pack_latents
        image_ids = FluxPipeline._prepare_latent_image_ids(
            batch, height // 2, width // 2, self.device, latents.dtype
        )
        guidance = torch.full((batch,), 1.0, device=self.device) if self.guidance else None
        pred = self.denoiser(
            hidden_states=pack(noisy, batch, channels, height, width),
            timestep=sigmas.to(latents.dtype),
            guidance=guidance,
            pooled_projections=torch.cat([p.pooled for p in prompts if p.pooled is not None]),
            encoder_hidden_states=torch.cat([p.embeds for p in prompts]),
            txt_ids=prompts[0].text_ids,
            img_ids=image_ids,
            return_dict=False,
        )[0]
        target = pack(noise - latents, batch, channels, height, width)
        return torch.nn.functional.mse_loss(pred.float(), target.float())

    def sample_kwargs(self, prompt: Prompt, negative: Prompt, guidance: float) -> dict[str, Any]:
        return {
            "prompt_embeds": prompt.embeds,
            "pooled_prompt_embeds": prompt.pooled,
            "guidance_scale": guidance,
        }


def _randn(shape: Any, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """Noise drawn on the CPU generator (same numbers on every device), then moved."""
    return torch.randn(shape, generator=generator).to(like.device, like.dtype)


OPS = {"sd": FamilyOps, "sdxl": SdxlOps, "flux": FluxOps}
