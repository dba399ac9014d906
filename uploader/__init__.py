"""Step 6: send an approved session to the central XNAT (:func:`upload`), resumably, and check
what arrived. See :mod:`.upload`."""
from .errors import UploadAuthError, UploadError
from .upload import UploadOptions, UploadResult, upload

__all__ = ["UploadAuthError", "UploadError", "UploadOptions", "UploadResult", "upload"]
