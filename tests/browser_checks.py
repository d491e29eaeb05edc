"""What the browser tests check on every page a visitor sees: labels, contrast, no sideways scroll,
pictures loaded; the files they drop, paste and upload; and staff's way into the admin."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image
from playwright.sync_api import Page

# Every control's accessible name, as a screen reader announces it (label, aria-label or text).
UNLABELLED_CONTROLS = """() => [
  ...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')
].filter(control => {
    const labelled = control.labels && [...control.labels].some(label => label.textContent.trim());
    const named = (control.getAttribute('aria-label') || control.textContent || control.value || '').trim();
    return !labelled && !named;
  })
  .map(control => control.outerHTML)"""

# WCAG 2 contrast of each visible text against the nearest opaque background behind it: 4.5:1, or
# 3:1 for large text (24px, or 18.66px bold).
LOW_CONTRAST_TEXTS = """() => {
  const channels = colour => colour.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = [r, g, b].map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  };
  const background = element => {
    for (let node = element; node; node = node.parentElement) {
      const value = channels(getComputedStyle(node).backgroundColor);
      if (value.length === 3 || value[3] === 1) return value.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const element = walker.currentNode.parentElement;
    if (!text || !element.checkVisibility() || element.closest('svg, option')) continue;
    const style = getComputedStyle(element);
    const fg = luminance(channels(style.color)), bg = luminance(background(element));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) found.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)} < ${needed}`);
  }
  return found;
}"""


def check_page(page: Page) -> None:
    """The page's controls are labelled, its text meets WCAG AA contrast, it does not scroll
    sideways, and all its pictures loaded."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.evaluate(LOW_CONTRAST_TEXTS) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.evaluate("[...document.images].every(image => image.complete && image.naturalWidth > 0)")


def noise_png(side: int, seed: int = 0) -> bytes:
    """A PNG of coloured noise: it does not compress, so its size is about 3 bytes a pixel."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def as_js_files(files: list[tuple[str, str, bytes]]) -> list[list[str]]:
    return [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files]


MAKE_DATA_TRANSFER = """files => {
  const transfer = new DataTransfer();
  for (const [name, type, data] of files) {
    const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  return transfer;
}"""


def drop_files(page: Page, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drag files over the element and drop them, as a file manager does."""
    transfer = page.evaluate_handle(MAKE_DATA_TRANSFER, as_js_files(files))
    page.dispatch_event(selector, "dragenter", {"dataTransfer": transfer})
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def copy_image_to_clipboard(page: Page, png: bytes) -> None:
    """Put a PNG on the system clipboard, as a screenshot tool does (the page needs clipboard access)."""
    page.evaluate(
        """async data => {
          const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
          const blob = new Blob([bytes], { type: 'image/png' });
          await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
        }""",
        base64.b64encode(png).decode(),
    )


def open_admin_predictions(page: Page, site_url: str, username: str, password: str) -> None:
    """Log in to the admin as staff would, and open the predictions list."""
    page.goto(f"{site_url}/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Predictions").first.click()
