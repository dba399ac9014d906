"""SDU inside XNAT's Container Service: the library under the ``sdu-xnat`` image entry point.

The Container Service mounts a session's archive folder (``SCANS/<id>/DICOM/*.dcm`` beside
catalog XML, ``RESOURCES/<label>/…``) read-only and sets ``XNAT_HOST``/``XNAT_USER``/``XNAT_PASS``
(an alias token of the launching user). :mod:`.archive` reads that layout, :mod:`.settings` the
site's secrets (mounted files or environment), :mod:`.identity` resolves the launching user,
:mod:`.importer` sends an anonymised session into the site's anonymised XNAT project,
:mod:`.signing` seals the approval record XNAT carries between the approve and upload containers,
and :mod:`.steps` runs each step with the same library functions the ``sdu`` CLI calls.
"""
