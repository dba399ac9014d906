"""Limits that keep a hostile or broken script from costing more than a moment (one place)."""

MAX_BYTES = 512 * 1024        # script text
MAX_LINES = 20_000
MAX_STATEMENTS = 10_000
MAX_NESTING = 48              # (), [], {} nesting
MAX_REGEX_LENGTH = 1_000      # characters in one pattern
REGEX_TIMEOUT = 0.25          # seconds for one match
MAX_VALUE_LENGTH = 1 << 20    # characters in one computed value
