"""What a flagged result becomes: strongly blurred, with a visible label.

The blurred image replaces the result everywhere it is shown, saved, exported or
delivered; the unblurred pixels are not kept (README: "NSFW screening").
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FLAG_LABEL = "Flagged: sensitive content"


def blur_and_label(image: Image.Image, label: str = FLAG_LABEL) -> Image.Image:
    """A copy no one can read the content of: reduced to ~24 blocks across (a plain
    blur can be partly undone), blurred and scaled back up, with `label` across it."""
    image = image.convert("RGB")
    width, height = image.size
    blocks = max(1, min(width, height) // 24) if min(width, height) >= 24 else 1
    small = image.resize((max(1, width // blocks), max(1, height // blocks)), Image.Resampling.BOX)
    # blurring the small copy and scaling it up smoothly costs ~1/50 of a full-size blur
    covered = small.filter(ImageFilter.GaussianBlur(radius=1.5)).resize(
        image.size, Image.Resampling.BICUBIC
    )
    return _label(covered, label)


def _label(image: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(image, "RGBA")
    size = max(10, image.width // 18)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    while right - left > image.width * 0.9 and size > 8:  # narrow images: shrink to fit
        size -= 2
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = font.getbbox(text)
    pad = size // 2
    x = (image.width - (right - left)) // 2
    y = (image.height - (bottom - top)) // 2
    draw.rectangle(
        (0, y - pad, image.width, y + (bottom - top) + pad + top), fill=(20, 20, 24, 210)
    )
    draw.text((x - left, y), text, font=font, fill=(255, 255, 255, 255))
    return image
