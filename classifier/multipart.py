"""Multipart parts whose headers are not valid UTF-8 (a filename in a legacy encoding, or hostile
bytes) reach the views instead of vanishing.

Django's parser (`django.http.multipartparser.parse_boundary_stream`) decodes each header line of a
part as strict UTF-8 and skips a line that fails to decode. A Content-Disposition with such a
filename is skipped with it, so the part has no disposition and `MultiPartParser._parse` drops it:
the file never reaches `request.FILES`, and the form and the API answer "no image". An upload handler
cannot help, because handlers see a file only once its headers were parsed (and `handle_raw_input`
would have to parse the whole body itself). So this wraps that one function: before Django reads a
part's headers, it rewrites them as valid UTF-8, and Django's own code parses them as usual. Headers
that already decode are left exactly as they are.

Undecodable bytes become U+FFFD, not latin-1 characters: RFC 7578 (section 4.2) makes UTF-8 the
encoding of multipart/form-data filenames, so a name that is partly valid UTF-8 keeps its valid
characters instead of turning into mojibake, and a latin-1 guess would be just as wrong for
cp1251, Shift_JIS or GBK names while looking plausible. U+FFFD visibly marks what could not be read;
it is also what Django does with a form field's undecodable bytes. Percent-encoded RFC 2231 names
(`filename*=UTF-8''caf%E9.png`) already decode that way in Django; raw bytes inside them are handled
here like any others.
"""

from django.http import multipartparser

_django_parse_boundary_stream = multipartparser.parse_boundary_stream

# Each undecodable byte becomes at most the three bytes of U+FFFD, so a header block that fitted
# Django's limit before repair fits four times that limit after (Django reads in doubling chunks).
REPAIRED_HEADER_GROWTH = 4


def parse_boundary_stream(stream, max_header_size):
    """Django's `parse_boundary_stream`, given the part's headers with undecodable bytes replaced."""
    chunk = stream.read(max_header_size)
    header_end = chunk.find(b"\r\n\r\n")
    if header_end != -1:  # otherwise Django finds no headers, or too long ones, as before
        header = chunk[:header_end]
        try:
            header.decode()
        except UnicodeDecodeError:
            chunk = header.decode(errors="replace").encode() + chunk[header_end:]
            max_header_size *= REPAIRED_HEADER_GROWTH
    stream.unget(chunk)
    return _django_parse_boundary_stream(stream, max_header_size)


def install() -> None:
    """Make Django's multipart parser use the wrapper above (once; called from the app's ready())."""
    multipartparser.parse_boundary_stream = parse_boundary_stream
