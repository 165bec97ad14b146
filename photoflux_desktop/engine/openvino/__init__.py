"""The OpenVINO CPU fast path: the same diffusers pipeline, with its UNet and VAE run by
OpenVINO from an IR exported once per model (see export.py, runtime.py, renderer.py)."""
