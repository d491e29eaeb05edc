"""Turning an uploaded picture into a 28x28 Fashion-MNIST model input.

Fashion-MNIST was made from product photos on white backgrounds: trim the edges close to the
corner colour, resize the longest edge to 28, centre on a 28x28 canvas, negate and convert to 8-bit
grey, its brightest pixel at 255. Pictures come in three kinds, each with its own way there:

- a 28x28 image with a dark background is already a model input (used as it is);
- a product photo, the garment on an even background (white, grey, a cut-out): the steps above
  (`mlmodel.even_background`);
- a phone photo, the garment on a bed, a floor or a table: the garment is cut out first
  (`mlmodel.segmentation`), then made light on pure black the same way (`mlmodel.cut_out`).

No pixel work is done at full resolution: a JPEG is decoded at a reduced size (Pillow's draft mode:
libjpeg scales by 1/2, 1/4 or 1/8 while decoding) and any other large image is shrunk first, so a
12-megapixel photo costs about what a 0.2-megapixel one does beyond its decoding.
"""

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageOps

from mlmodel import even_background, segmentation
from mlmodel.cut_out import cut_out
from mlmodel.data import IMAGE_SIZE

MAX_PIXELS: int = 40_000_000
# Pictures are decoded and worked on at no more than about this many pixels on their short side:
# enough for the 160-pixel thumbnail and for segmentation at 80.
WORKING_SIZE = 320
# The long side of the grey copy the garment is cut out of.
CUT_OUT_SIZE = 4 * IMAGE_SIZE
# `image.info` key of the picture's size as uploaded, before a reduced decode.
SOURCE_SIZE = "fashionsite.source_size"
# Mean difference between a pixel's largest and smallest channel above which a picture has colours.
_COLOURFUL_CHROMA = 12
_EIGHT_BIT_MODES_WITH_ALPHA = ("RGBA", "RGBa", "LA", "La", "PA")


class InvalidImage(ValueError):
    """The upload cannot be used as an image; the message is meant for the user."""


@dataclass(frozen=True, eq=False)
class ModelInput:
    """A 28x28 model input and what was decided to make it."""

    pixels: np.ndarray
    inverted: bool
    trimmed_box: tuple[int, int, int, int] | None  # (left, upper, right, lower) in source pixels
    source_size: tuple[int, int] = (IMAGE_SIZE, IMAGE_SIZE)
    source_mode: str = "L"
    exif_transposed: bool = False
    background_level: int = 0
    scaled_size: tuple[int, int] = (IMAGE_SIZE, IMAGE_SIZE)
    peak_level: int | None = None  # the brightest level after resizing, stretched to 255; None: not resized
    method: str = "as-is"  # "as-is", "product-photo", or the segmentation's ("grabcut", "whole-photo")
    garment: segmentation.Garment | None = None  # where the garment is, for phone photos
    # A phone photo's garment wider than tall, squeezed to fill the square: the predictor averages
    # its answer with that of `pixels` (mlmodel.cut_out says why).
    second_look: np.ndarray | None = None

    def decisions(self) -> dict[str, object]:
        """A JSON-serialisable summary of the preprocessing decisions."""
        decisions: dict[str, object] = {
            "method": self.method,
            "source_size": list(self.source_size),
            "source_mode": self.source_mode,
            "exif_transposed": self.exif_transposed,
            "inverted": self.inverted,
            "background_level": self.background_level,
            "trimmed_box": list(self.trimmed_box) if self.trimmed_box else None,
            "scaled_size": list(self.scaled_size),
            "peak_level": self.peak_level,
        }
        if self.garment is not None:
            decisions["segmentation"] = {
                "mask_share": round(self.garment.share, 4),
                "box": [round(share, 4) for share in self.garment.box],
                "pair_split": self.garment.pair_split,
                "second_look": self.second_look is not None,
                "outline": self.garment.outline(),
            }
        return decisions

    def png(self) -> bytes:
        """The exact 28x28 input as 8-bit greyscale PNG bytes."""
        return _grey_png(self.pixels)

    def second_look_png(self) -> bytes | None:
        """The second look as 8-bit greyscale PNG bytes, if one was taken."""
        return None if self.second_look is None else _grey_png(self.second_look)


def _grey_png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def open_image(data: bytes) -> Image.Image:
    """Verify and load an image (the first frame if animated), a JPEG at a reduced size.

    A JPEG larger than WORKING_SIZE is decoded at 1/2, 1/4 or 1/8 of its size, the smallest that
    keeps WORKING_SIZE; `image.info[SOURCE_SIZE]` keeps the size as uploaded. Raises InvalidImage
    for empty, unrecognised, damaged or truncated data and for images of more than MAX_PIXELS pixels.
    """
    if not data:
        raise InvalidImage("The file is empty: not a readable image.")
    too_large = f"The image has more than {MAX_PIXELS:,} pixels: not a readable image."
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice that; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise InvalidImage(too_large)
                probe.verify()
            # verify() leaves the image unusable, so it is opened again to decode.
            image = Image.open(io.BytesIO(data))
            source_size = image.size
            _reduce_decoding(image)
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InvalidImage(too_large) from error
    except Image.UnidentifiedImageError as error:
        raise InvalidImage("The file is not a readable image: its format is not recognised.") from error
    # Pillow's decoders raise many exception types on malformed input.
    except Exception as error:
        raise InvalidImage("The file is not a readable image: it is damaged or truncated.") from error
    image.info[SOURCE_SIZE] = source_size
    return image


def _reduce_decoding(image: Image.Image) -> None:
    """Have a JPEG larger than WORKING_SIZE decoded at 1/2, 1/4 or 1/8 of its size (Pillow's draft)."""
    if image.format == "JPEG" and min(image.size) > WORKING_SIZE:
        image.draft(image.mode, (WORKING_SIZE, WORKING_SIZE))


def decoded_pixels(data: bytes) -> int:
    """How many pixels open_image decodes for this picture (a JPEG's at its reduced size), read from
    its header alone, without decoding: what a budget of pixels per request counts. 0 when the header
    cannot be read (open_image then says why the file is refused)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                _reduce_decoding(image)
                return image.width * image.height
    except Exception:  # Pillow raises many types on malformed headers; open_image reports them
        return 0


def working_copy(image: Image.Image) -> Image.Image:
    """The image upright (EXIF orientation applied) and no larger than needed for the work here."""
    if min(image.size) >= 2 * WORKING_SIZE and not image.mode.startswith("I;16"):  # reduce() has no 16-bit
        if image.mode in ("1", "P", "PA"):  # modes reduce() cannot average
            image = image.convert("RGBA" if image.mode == "PA" or "transparency" in image.info else "RGB")
        # reduce() averages whole blocks of pixels: cheap, and it keeps the image's own mode.
        image = image.reduce(min(image.size) // WORKING_SIZE)
    return ImageOps.exif_transpose(image)


def to_model_input(image: Image.Image, upright: Image.Image | None = None) -> ModelInput:
    """Preprocess an image into the 28x28 input the model expects (see the module's notes).
    `upright`: its `working_copy`, when the caller has made it already (for the thumbnail)."""
    source_size = tuple(image.info.get(SOURCE_SIZE, image.size))
    details = {
        "source_size": source_size,
        "source_mode": image.mode,
        "exif_transposed": image.getexif().get(ExifTags.Base.Orientation, 1) != 1,
    }
    upright = working_copy(image) if upright is None else upright
    grey = _to_grey(upright)
    if grey.shape == (IMAGE_SIZE, IMAGE_SIZE):
        inverted = even_background.corner_level(grey) > 127
        pixels = 255 - grey if inverted else grey
        return ModelInput(pixels=_read_only(pixels), inverted=inverted, trimmed_box=None, **details)
    if even_background.has_even_background(grey) and (
        even_background.corner_level(grey) > 127 or not _is_colourful(upright)
    ):
        made = even_background.to_model_input(grey)
        box = None if made.trimmed_box is None else _in_source_pixels(made.trimmed_box, source_size, grey)
        return ModelInput(
            pixels=_read_only(made.pixels),
            inverted=made.inverted,
            trimmed_box=box,
            background_level=made.background_level,
            scaled_size=made.scaled_size,
            peak_level=made.peak_level,
            method="product-photo",
            **details,
        )
    garment = segmentation.find_garment(_rgb_pixels(upright))
    # The 28x28 input is made from a copy four times its size: finer detail would be averaged away.
    detail = _shrunk(grey, CUT_OUT_SIZE)
    made = cut_out(detail, garment.mask)
    return ModelInput(
        pixels=_read_only(made.pixels),
        second_look=None if made.squeezed is None else _read_only(made.squeezed),
        inverted=True,
        trimmed_box=_in_source_pixels(made.box, source_size, detail),
        scaled_size=made.scaled_size,
        peak_level=255,
        method=garment.method,
        garment=garment,
        **details,
    )


def _in_source_pixels(
    box: tuple[int, ...], source_size: tuple[int, int], copy: np.ndarray
) -> tuple[int, ...]:
    """A box found on a reduced copy, in the pixels of the photo as uploaded."""
    scale = max(source_size) / max(copy.shape)
    return tuple(round(edge * scale) for edge in box)


def _shrunk(grey: np.ndarray, size: int) -> np.ndarray:
    height, width = grey.shape
    scale = size / max(height, width)
    if scale >= 1:
        return grey
    return cv2.resize(
        grey, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
    )


def _is_colourful(image: Image.Image) -> bool:
    """Whether a picture has colours, not only greys. On an even light background every picture is
    a product photo; on a dark or coloured one, only a grey picture is (an enlarged Fashion-MNIST
    image, say): a colour photo there is a garment on a sheet or a wall, to be cut out."""
    if image.mode not in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
        return False
    rgb = _rgb_pixels(image)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Channel by channel: numpy's max(axis=2) over three values a pixel took 12.6 ms here, this 0.7.
    chroma = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    return bool(chroma.mean() > _COLOURFUL_CHROMA)


def _rgb_pixels(image: Image.Image) -> np.ndarray:
    """The picture's (height, width, 3) RGB pixels; an RGB picture is not converted first, as
    convert() would copy it."""
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def _to_grey(image: Image.Image) -> np.ndarray:
    """8-bit grey pixels (height, width); transparent areas become white."""
    if image.mode in _EIGHT_BIT_MODES_WITH_ALPHA or "transparency" in image.info:
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, image.convert("RGBA")).convert("L"))
    if image.mode.startswith("I;16"):
        # Pillow's convert("L") clips 16-bit values instead of scaling them.
        return np.round(np.asarray(image, dtype=np.float64) / 257).astype(np.uint8)
    if image.mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        peak = values.max(initial=0)
        if peak > 255:
            values = values * (255 / peak)
        return np.clip(np.round(values), 0, 255).astype(np.uint8)
    try:
        return np.asarray(image.convert("L"))
    except ValueError as error:
        raise InvalidImage(f"Images in colour mode {image.mode} are not supported.") from error


def _read_only(pixels: np.ndarray) -> np.ndarray:
    pixels = np.array(pixels, dtype=np.uint8)
    pixels.setflags(write=False)
    return pixels
