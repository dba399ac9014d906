"""Step 5: review and approval. Nothing leaves the site without a passing verification of exactly
these files and a recorded approval bound to their SHA-256 manifest (:mod:`.gate`)."""
from .gate import Release, approve, manifest, require_release, revoke
from .review import review_folder

__all__ = ["Release", "approve", "manifest", "require_release", "review_folder", "revoke"]
