"""A seeded generator of random, syntactically valid DicomEdit 6 scripts over the whole language.

Statements (assign, assign-if-exists, delete, variables, echo with and without a value, describe
with a text or hidden/const/immutable, export, removeAllPrivateTags, function statements),
conditionals (``?:`` and if/elseif/else) with every operator and the boolean functions, every
function of DicomEdit 6.6.0 that does not need XNAT's database (``collectValues`` over wildcards,
several paths, strings and lists; ``mapUID`` with paths, strings and variables), tag paths with
digit wildcards, item and depth wildcards anywhere in a path (``+`` first and after a tag), private
tags by creator at the top and in sequence items, file meta elements as targets, values read
from OB, AT, FL, SL and UL elements and file meta, numbers, lists and ``new UID`` as values, comments,
blank lines and continued lines. The tags are those of pydicom's CT, MR and RT test files
(present, absent, private, nested) so that scripts both hit and miss.

Left out on purpose (each with the reason):
- ``lookup``: XNAT keeps lookup tables in its database; the engine here has none.
- ``getURL``: needs the network.
- ``alterPixels``: decodes and rewrites pixel data; covered by its own tests.
- ``newUID``, ``mapUID``: random; used where a value can be masked whole (the comparison accepts
  any random UID on both sides), not inside substring/hashUID/... nor in new private elements
  (bytes). ``mapUID`` mostly takes one prefix: the first prefix a value meets wins, JVM-wide in
  the engine and process-wide in SDU, and both see the same runs in the same order.
- functions XNAT 1.8.10 lacks (``urlEncode``, ``getURLParam``, ``shiftTimeByIncrement``): refused
  at load by SDU, failed at run time by the engine; tested in test_functions.py.
- paths ending in a wildcard (``-(3006,0020)/*``; the engine reads them as every element below):
  SDU refuses them; a ``?`` step: a syntax error in both.
- the known differences in anonymiser/dicomedit/README.md: private elements created by creator in
  a sequence item other than the first, ``retainPrivateTags`` over a block holding OB elements
  or private elements the script made (XNAT rewrites what it keeps through its text).
- variables named ``x``/``X``: the engine's lexer reads them as a hex wildcard.
"""
from __future__ import annotations

import random

PUBLIC_PRESENT = ["(0010,0010)", "(0010,0020)", "(0008,0060)", "(0008,1030)", "(0008,0020)", "(0008,0030)",
                  "(0010,0030)", "(0010,0040)", "(0020,000D)", "(0020,000E)", "(0008,0018)", "(0008,0070)",
                  "(0008,0090)", "(0020,0010)", "(0008,0050)", "(0018,0050)", "(0020,0013)", "(0008,0012)",
                  "(0010,1010)", "(0008,103E)"]
PUBLIC_ABSENT = ["(0010,2160)", "(0010,4000)", "(0008,1040)", "(0032,1060)", "(0010,21B0)"]
NUMERIC = ["(0028,0010)", "(0028,0011)", "(0020,0013)", "(0018,0050)"]
DATES = ["(0008,0020)", "(0008,0012)", "(0010,0030)", "(0008,0021)", "(3006,0008)"]
SEQUENCE_PATHS = ["(3006,0020)[0]/(3006,0026)", "(3006,0020)[%]/(3006,0026)", "(3006,0020)/(3006,0022)",
                  "(300A,00B0)[0]/(300A,00C2)", "(300C,0002)[0]/(0008,1155)", "*/(0008,1155)", "+/(3006,0026)",
                  "./(0008,1150)", "(0010,1002)[1]/(0010,0020)", "(0010,1002)[%]/(0010,0022)",
                  "(3006,0010)[0]/(3006,0012)[0]/(0008,1155)", "*/(0020,000E)",
                  # depth wildcards as XNAT 6.6.0 reads them: a leading '+' skips a first sequence that
                  # matches the next step, '+' after a tag also takes zero levels
                  "+/(300A,XXXX)", "+/(3006,XXXX)", "(300A,00B0)/+/(300A,0112)", "(300C,0002)/+/(0008,1155)",
                  "(3006,0039)/*/(3006,0084)", "(3006,0039)[0]/./(3006,0084)", "(300A,00B0)[%]/./(300A,XXXX)",
                  "*/(0009,{GEMS_IDEN_01}XX)", "./(0008,XXXX)"]
SEQUENCES = ["(3006,0020)", "(0010,1002)", "(300A,00B0)", "(300C,0002)", "(3006,0039)", "(0008,1140)"]
ITEMS = ["(3006,0020)[1]", "(0010,1002)[0]", "(300A,0010)[%]"]
PRIVATE = ["(0009,{GEMS_IDEN_01}02)", "(0019,{GEMS_ACQU_01}XX)", "(0043,{GEMS_PARM_01}1X)", "(0009,{NOBODY}10)",
           "(0021,{GEMS_RELA_01}15)", "(0009,1002)", "(0019,10XX)", "(0029,{GEMS_IMPS_01}04)",
           "(0010,1002)[0]/(0011,{SDU NESTED}10)", "(300A,00B0)[0]/(300B,{SDU NESTED}1X)"]
WILD = ["(0010,00X0)", "(0008,00#0)", "(0028,010@)", "(0010,XXXX)", "(0020,000X)", "(0008,103X)"]
# read as values only: file meta, OB, AT, FL, SL and UL elements, as dcm4che 2 turns them into text
READ_ONLY = ["(0002,0001)", "(0002,0010)", "(0002,0013)", "(0028,0009)", "(0043,{GEMS_PARM_01}28)",
             "(0021,{GEMS_RELA_01}92)", "(0027,{GEMS_IMAG_01}41)", "(0009,{GEMS_IDEN_01}27)",
             "(0009,{GEMS_IDEN_01}E7)", "(0023,{GEMS_SERS_01}70)", "(0018,0050)", "(0028,0030)"]
MAP_PREFIX = "1.2.840.99"  # one prefix: the engine keeps the first prefix a value met, for the whole JVM
VARIABLES = ["project", "subject", "session"]
STRINGS = ["", "A", "anon", "CT", "MR", "ANON^PATIENT", "12345", "a b c", "Zoë", "2.25.1234", "C.*", "x\\\\y",
           "20200102", "19991231", "00209056", "70000", "-5", "3.5"]
REGEXES = ["C.", ".*", "CT|MR", "[A-Z]+", "^$", ".*1.*", "(.+)\\\\^(.+)", "[0-9]{8}", "abc"]


class ScriptGenerator:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.vars: list[str] = []

    # ---- tag paths -------------------------------------------------------------------------
    def single_path(self) -> str:
        r = self.r.random()
        if r < 0.55:
            return self.r.choice(PUBLIC_PRESENT)
        if r < 0.7:
            return self.r.choice(PUBLIC_ABSENT)
        if r < 0.8:
            return self.r.choice([p for p in SEQUENCE_PATHS if "%" not in p and not p[0] in "*+."
                                  and "/(3006,0022)" not in p])
        if r < 0.9:
            return self.r.choice([p for p in PRIVATE if "X" not in p.split("}")[-1] and "10XX" not in p])
        return self.r.choice(NUMERIC + DATES)

    def any_path(self) -> str:
        r = self.r.random()
        if r < 0.3:
            return self.r.choice(WILD)
        if r < 0.5:
            return self.r.choice(SEQUENCE_PATHS)
        if r < 0.65:
            return self.r.choice(PRIVATE)
        if r < 0.72:
            return self.r.choice(SEQUENCES + ITEMS)
        return self.single_path()

    # ---- values --------------------------------------------------------------------------
    def string(self) -> str:
        return '"' + self.r.choice(STRINGS) + '"'

    def value(self, depth: int = 0) -> str:
        r = self.r.random()
        if depth > 2 or r < 0.25:
            return self.string()
        if r < 0.32:
            return str(self.r.choice([0, 1, 7, 42, -3, 1.5]))
        if r < 0.42:
            return self.r.choice(VARIABLES + self.vars)
        if r < 0.6:
            return self.single_path()
        if r < 0.65:
            return self.r.choice(READ_ONLY)
        if r < 0.67:
            return self.r.choice(["1.5", "-0.25", '{"a", (0008,0060)}', "new UID"]) if depth == 0 else "1.5"
        return self.function_value(depth + 1)

    def text_arg(self, depth):
        return self.r.choice([self.single_path(), self.string(), self.function_value(depth + 1)
                              if depth < 2 else self.string()])

    def function_value(self, depth: int) -> str:
        name = self.r.choice(["format", "lowercase", "uppercase", "concatenate", "substring", "replace", "hashUID",
                              "match", "normalizeString", "collectValues", "valueAt", "shiftDateByIncrement",
                              "shiftDateTimeByIncrement", "newUID", "mapUID"])
        v = lambda: self.value(depth)  # noqa: E731
        if name == "format":
            n = self.r.randint(0, 3)
            fmt = "-".join("{%d}" % i for i in range(n)) or "fixed"
            return f'format["{fmt}"' + "".join(", " + v() for _ in range(n)) + "]"
        if name in ("lowercase", "uppercase", "hashUID", "valueAt"):
            arg = self.single_path() if name == "valueAt" else self.text_arg(depth)
            return f"{name}[{arg}]"
        if name == "normalizeString":
            extra = (", " + self.r.choice(['"_"', '"-"', '""'])) if self.r.random() < 0.4 else ""
            arg = self.r.choice([self.text_arg(depth), '"Ünïcode"', '"Smith, Jöhn"'])
            return f"normalizeString[{arg}{extra}]"
        if name == "concatenate":
            return "concatenate[" + ", ".join(v() for _ in range(self.r.randint(1, 3))) + "]"
        if name == "substring":
            b = self.r.randint(0, 4)
            return f"substring[{self.text_arg(depth)}, {b}, {b + self.r.randint(0, 6)}]"
        if name == "replace":
            return f'replace[{self.text_arg(depth)}, "{self.r.choice(["C", "1", "^", "a"])}", {self.string()}]'
        if name == "match":
            return f'match[{self.text_arg(depth)}, "{self.r.choice(REGEXES)}", {self.r.randint(0, 2)}]'
        if name == "collectValues":
            # values in the engine's HashMap order: wildcards, several paths, strings and lists first
            items = [self.r.choice([self.any_path(), self.single_path(), self.string(), self.r.choice(READ_ONLY),
                                    '{"a", ' + self.single_path() + "}"]) for _ in range(self.r.randint(1, 3))]
            return "collectValues[" + ", ".join(i for i in items if not i.endswith("[%]")) + "]" \
                if any(not i.endswith("[%]") for i in items) else "collectValues[(0010,0010)]"
        if name == "shiftDateByIncrement":
            arg = self.r.choice(DATES + ['"20200101"', '"20201231"'])
            return f'shiftDateByIncrement[{arg}, "{self.r.choice([-400, -1, 0, 1, 30])}"]'
        if name == "shiftDateTimeByIncrement":
            arg = self.r.choice(DATES + ['"20200101120000"', '"20200101"'])
            unit = self.r.choice(["", ', "seconds"', ', "minutes"', ', "hours"', ', "days"'])
            return f'shiftDateTimeByIncrement[{arg}, "{self.r.choice([-86400, 1, 3600])}"{unit}]'
        if name == "newUID":
            # random: only where the comparison can mask it whole (not inside substring, hashUID, ...)
            return "newUID[]" if depth <= 1 else '"2.25.42"'
        # a tag path maps its own text (the same UID in every file), a variable or string its value;
        # random like newUID: only where the comparison can mask it whole
        if depth > 1:
            return f'"{MAP_PREFIX}.42"'
        key = self.r.choice([self.single_path(), self.string(), self.r.choice(VARIABLES + self.vars or ["subject"])])
        if self.r.random() < 0.1:  # a prefix that is no UID root fails when the value is new: a value no run met
            return f'mapUID["unmet {self.r.randrange(10**9)}", "{self.r.choice(["1.02", ""])}"]'
        return f'mapUID[{key}, "{MAP_PREFIX}"]'

    # ---- conditions ----------------------------------------------------------------------
    def condition(self, depth: int = 0) -> str:
        r = self.r.random()
        if r < 0.6 or depth > 1:
            op = self.r.choice(["=", "!=", "~", "!~"])
            right = '"' + self.r.choice(REGEXES) + '"' if op in ("~", "!~") else self.value(2)
            return f"{self.value(2)} {op} {right}"
        return self.bool_function(depth)

    def bool_function(self, depth: int) -> str:
        name = self.r.choice(["isPresent", "true", "false", "and", "or", "equals", "ismatch"])
        if name == "isPresent":
            return "isPresent[" + ", ".join(self.single_path() for _ in range(self.r.randint(1, 3))) + "]"
        if name in ("true", "false"):
            return f"{name}[]"
        if name in ("and", "or"):
            return f"{name}[" + ", ".join(self.bool_function(depth + 1) if depth < 2 else "true[]"
                                          for _ in range(self.r.randint(1, 3))) + "]"
        if name == "equals":
            return f"equals[{self.value(2)}, {self.value(2)}]"
        return f'ismatch[{self.value(2)}, "{self.r.choice(REGEXES)}"]'

    # ---- statements ----------------------------------------------------------------------
    def assignment(self, target: str, op: str) -> str:
        value = self.value()
        if "{" in target:  # a new private element holds the text's bytes, which a 2.25 mask cannot reach:
            value = value.replace("newUID[]", '"2.25.1"').replace("new UID", '"2.25.1"')
            if "mapUID" in value or ("(" in value and self.r.random() < 0.5):  # nor a UID read from an element
                value = self.string()
        return f"{target} {op} {value}"

    def action(self) -> str:
        r = self.r.random()
        if r < 0.02:  # file meta elements: XNAT edits them in the same object
            return self.assignment(self.r.choice(["(0002,0013)", "(0002,0016)"]), self.r.choice([":=", "?="]))
        if r < 0.35:
            return self.assignment(self.single_path(), ":=")
        if r < 0.45:
            return self.assignment(self.any_path() if self.r.random() < 0.3 else self.single_path(), "?=")
        if r < 0.6:
            return f"-{self.any_path()}"
        if r < 0.67:
            name = self.r.choice(["alpha", "beta", "gamma_1"])
            line = f"{name} := {self.value()}"
            self.vars.append(name)
            return line
        if r < 0.7:
            return f"echo {self.value()}" if self.r.random() < 0.8 else "echo"
        return self.function_statement()

    def function_statement(self) -> str:
        name = self.r.choice(["removeTags", "blankValues", "hashUIDList", "retainPrivateTags", "delete", "set",
                              "shiftDateTimeSequenceByIncrement", "mapReferencedUIDs", "scalePatientAgeAndDobFromStudyDate",
                              "shiftDateTimeListByIncrement", "reject"])
        if name == "reject":
            return self.r.choice(["reject[false[]]", f"reject[{self.bool_function(1)}]", "reject[]", 'reject["x"]'])
        if name == "shiftDateTimeListByIncrement":
            items = ", ".join(self.r.choice(DATES + [f'"{d}"' for d in DATES]) for _ in range(self.r.randint(1, 2)))
            unit = self.r.choice(["", ', "days"', ', "hours"', ', "seconds"'])
            return f'shiftDateTimeListByIncrement[{{{items}}}, "{self.r.choice([-1, 2, 86400])}"{unit}]'
        if name == "removeTags":
            items = [self.any_path() for _ in range(self.r.randint(1, 3))]
            if self.r.random() < 0.15:  # a list over several lines, with a comment
                return "removeTags[{\n  " + ",  // a tag\n  ".join(items) + "\n}]"
            if self.r.random() < 0.3:
                return "removeTags[{" + ", ".join(items) + "}]"
            if len(items) > 1 and self.r.random() < 0.2:  # a line continued with a backslash
                return "removeTags[" + items[0] + ", \\\n    " + ", ".join(items[1:]) + "]"
            return "removeTags[" + ", ".join(items) + "]"
        if name == "blankValues":
            return "blankValues[" + ", ".join(self.r.choice([self.any_path(), self.string()])
                                             for _ in range(self.r.randint(1, 3))) + "]"
        if name == "hashUIDList":
            return "hashUIDList[" + ", ".join(self.r.choice(["*/(0020,000D)", "(0008,0018)", "*/(0008,1155)",
                                                            "(0020,000E)", "(0010,0020)", "+/(0008,1155)",
                                                            "(300C,0002)/+/(0008,1155)", "./(0008,1155)",
                                                            "(3006,0010)/*/(0008,1155)"])
                                             for _ in range(self.r.randint(1, 2))) + "]"
        if name == "retainPrivateTags":
            return "retainPrivateTags[" + ", ".join(self.r.choice([p for p in PRIVATE if "{" in p and "NESTED" not in p]
                                                                  + ["*/(0009,{GEMS_IDEN_01}XX)", "+/(0019,{GEMS_ACQU_01}XX)"])
                                                   for _ in range(self.r.randint(1, 2))) + "]"
        if name == "delete":
            return f'delete["{self.any_path()}"]'
        if name == "set":
            return f'set["{self.single_path()}", {self.value()}]'
        if name == "shiftDateTimeSequenceByIncrement":
            target = self.r.choice(DATES + ["(0008,XXXX)", "*/(0008,XXXX)", "+/(300A,XXXX)", "(0010,00X0)"])
            return f'shiftDateTimeSequenceByIncrement["{self.r.choice([-3600, 86400])}", "{target}"]'
        if name == "shiftDateTimeListByIncrement":
            return (f'shiftDateTimeListByIncrement["{self.r.choice([-1, 2])}", "days", '
                    f'"{self.r.choice(DATES)}"]')
        if name == "mapReferencedUIDs":
            return (f'mapReferencedUIDs["2.25", "{self.r.choice(["*/(0008,1155)", "(0020,000D)", "+/(0008,1155)"])}"]')
        if self.r.random() < 0.5:  # give it an old patient to act on
            return ('(0010,0030) := "19200101"\n(0010,1010) := "095Y"\n'
                    '(0008,0020) ?= "20200101"\nscalePatientAgeAndDobFromStudyDate[]')
        return "scalePatientAgeAndDobFromStudyDate[]"

    def statement(self, depth: int = 0) -> list[str]:
        r = self.r.random()
        if r < 0.55 or depth > 1:
            return [self.action()]
        if r < 0.75:
            line = f"{self.condition()} ? {self.action()}"
            return [line + (f" : {self.action()}" if self.r.random() < 0.5 else "")]
        if r < 0.88:
            out = [f"if ({self.condition()}) {{"]
            for _ in range(self.r.randint(1, 2)):
                out += ["  " + s for s in self.statement(depth + 1)]
            for _ in range(self.r.randint(0, 1)):
                out.append(f"}} elseif ({self.condition()}) {{")
                out += ["  " + s for s in self.statement(depth + 1)]
            if self.r.random() < 0.5:
                out.append("} else {")
                out += ["  " + s for s in self.statement(depth + 1)]
            out.append("}")
            return out
        if r < 0.92:
            return ["removeAllPrivateTags"]
        if r < 0.96:
            label = self.r.choice(['"Project"', '"the subject"', "hidden", "const", "immutable"])
            return [f"describe {self.r.choice(VARIABLES)} {label}"]
        return [f'export {self.r.choice(VARIABLES)} "xnat:subjectData/label"']

    def script(self) -> str:
        self.vars = []
        version = "6.6" if self.r.random() < 0.8 else self.r.choice(["6.0", "6.1", "6.3", "6.5", "6.7"])
        lines = [f'version "{version}"']
        for _ in range(self.r.randint(1, 6)):
            lines += self.statement()
        if self.r.random() < 0.2:  # comments, blank lines
            lines = [line + ("  // note" if self.r.random() < 0.3 and not line.endswith("\\") else "")
                     for line in lines]
            lines.insert(self.r.randint(1, len(lines)), self.r.choice(["", "// a comment line"]))
        return "\n".join(lines) + "\n"


def generate(seed: int, count: int) -> list[str]:
    gen = ScriptGenerator(seed)
    return [gen.script() for _ in range(count)]
