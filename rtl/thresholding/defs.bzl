"""Attributes of Thresholding test and calibration configurations."""

def thresholding_attrs(c, pe, idt, odt, act_val = 0, extra = {}):
    """Thresholding attributes: `c` channels, `pe` lanes, input and output datatypes,
    ActVal, and the further attributes in `extra` (e.g. {"shared_thresholds": 1})."""
    return dict(
        extra,
        NumChannels = c,
        PE = pe,
        inputDataType = idt,
        outputDataType = odt,
        ActVal = act_val,
    )
