"""Attributes of VVAU test configurations."""

def vvau_attrs(c, k, dim, pe, simd, idt, wdt, odt, acc, act_val = 0, mem_mode = "internal_decoupled", ram_style = "auto"):
    """VVAU attributes; odt = None streams the accumulator (noActivation = 1)."""
    return dict(
        Channels = c,
        Kernel = list(k),
        KernelSize = k[0] * k[1],
        Dim = list(dim),
        PE = pe,
        SIMD = simd,
        inputDataType = idt,
        weightDataType = wdt,
        outputDataType = odt if odt else acc,
        accDataType = acc,
        noActivation = 0 if odt else 1,
        ActVal = act_val,
        mem_mode = mem_mode,
        ram_style = ram_style,
    )
