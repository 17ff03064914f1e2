"""Attributes of ConvolutionInputGenerator test configurations."""

def _dim(i, k, s, d):
    return (i - d * (k - 1) - 1) // s + 1

def swg_attrs(ifm, k, c, simd, dt, stride = (1, 1), dil = (1, 1), ram_style = "auto", depthwise = 0, parallel_window = 0):
    """ConvolutionInputGenerator attributes; OFMDim follows from the others. parallel_window
    is set only when 1 (serial configurations keep the attributes they were counted with)."""
    attrs = dict(
        ConvKernelDim = list(k),
        IFMChannels = c,
        IFMDim = list(ifm),
        OFMDim = [_dim(ifm[i], k[i], stride[i], dil[i]) for i in range(2)],
        Stride = list(stride),
        Dilation = list(dil),
        SIMD = simd,
        inputDataType = dt,
        outputDataType = dt,
        depthwise = depthwise,
        ram_style = ram_style,
    )
    if parallel_window:
        attrs["parallel_window"] = parallel_window
    return attrs
