"""K: keep the element; a sequence's items are still anonymised."""


class Keep:
    code = "K"

    def __call__(self, ds, tag, vr, ctx) -> None:
        if vr == "SQ":
            for item in ds[tag].value:
                ctx.walk(item, ctx)

    def describe(self) -> str:
        return "K: keep (sequence items are still processed)"
