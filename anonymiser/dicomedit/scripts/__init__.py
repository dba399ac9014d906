"""Data package: DicomEdit scripts shipped with SDU (``*.das``)."""
