"""X: remove the element."""


class Remove:
    code = "X"

    def __call__(self, ds, tag, vr, ctx) -> None:
        del ds[tag]
        ctx.counts[self.code] += 1

    def describe(self) -> str:
        return "X: remove the element"
