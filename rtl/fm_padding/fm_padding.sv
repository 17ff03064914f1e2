// Constant padding of NHWC images (the FMPadding layer): every IMG_H x IMG_W image of
// NUM_CHANNELS channels leaves as a (PAD_TOP + IMG_H + PAD_BOTTOM) x
// (PAD_LEFT + IMG_W + PAD_RIGHT) image, the new pixels holding PAD_ELEM in every channel
// (numpy np.pad(x, ((top, bottom), (left, right), (0, 0)), constant_values=padValue)).
//
// Streams (element i of a word at bits [i*ELEM_BITS +: ELEM_BITS]):
//   s_axis_tdata: SIMD channels of one input pixel per word, FOLD = NUM_CHANNELS/SIMD
//                 words per pixel, pixels row by row.
//   m_axis_tdata: the same for the padded image. Input words pass through unchanged; a
//                 padding word is SIMD copies of PAD_ELEM, the element's bit pattern as
//                 the stream carries it (two's complement at ELEM_BITS for signed types,
//                 1 = +1 and 0 = -1 for BIPOLAR).
//
// Implementation: three counters walk the output image (channel fold, column, row); two
// flags, updated as the column and row counters step, tell whether the position lies
// inside the original image. Inside, the output word is the input word held in a one-word
// input register; outside, the constant padding word. The input register is refilled in
// the cycle its word leaves, so inside pixels stream at one word per cycle too. Hence
// s_axis_tready depends on m_axis_tready combinationally (one gate); m_axis_tvalid and
// m_axis_tdata depend on registers only.
//
// Frames: the first output word of a frame (padding or not) waits until the frame's first
// input word is in the register, so an idle input never starts an image, and nothing
// leaves between frames. The next frame's first word is taken while the current frame's
// bottom padding is still being sent.
//
// Timing without stalls (checked by the testbench): the first input word is taken in the
// first cycle, the first output word leaves one cycle later, and then one output word
// leaves every cycle: F frames take F * OH * OW * FOLD + 1 cycles from the first input
// handshake to the last output handshake (latency 1).
module fm_padding #(
    parameter int IMG_H = 4,  // input image rows
    parameter int IMG_W = 4,  // input image columns
    parameter int PAD_TOP = 1,
    parameter int PAD_LEFT = 1,
    parameter int PAD_BOTTOM = 1,
    parameter int PAD_RIGHT = 1,
    parameter int NUM_CHANNELS = 2,
    parameter int SIMD = 1,  // channels per stream word; divides NUM_CHANNELS
    parameter int ELEM_BITS = 4,  // bits per element
    parameter logic [ELEM_BITS-1:0] PAD_ELEM = '0  // encoded padding element
) (
    input  logic                      clk,
    input  logic                      rst_n,
    input  logic [SIMD*ELEM_BITS-1:0] s_axis_tdata,
    input  logic                      s_axis_tvalid,
    output logic                      s_axis_tready,
    output logic [SIMD*ELEM_BITS-1:0] m_axis_tdata,
    output logic                      m_axis_tvalid,
    input  logic                      m_axis_tready
);
  localparam int OH = PAD_TOP + IMG_H + PAD_BOTTOM;  // output rows
  localparam int OW = PAD_LEFT + IMG_W + PAD_RIGHT;  // output columns
  localparam int FOLD = NUM_CHANNELS / SIMD;  // words per pixel
  localparam int FW = (FOLD > 1) ? $clog2(FOLD) : 1;
  // Column and row counters hold one more than the last index (the next position).
  localparam int XW = $clog2(OW + 1);
  localparam int YW = $clog2(OH + 1);
  localparam logic [SIMD*ELEM_BITS-1:0] PAD_WORD = {SIMD{PAD_ELEM}};

  generate
    if (SIMD < 1 || NUM_CHANNELS % SIMD != 0) begin : g_bad_fold
      $error("fm_padding: SIMD must divide NUM_CHANNELS");
    end
    if (IMG_H < 1 || IMG_W < 1 || PAD_TOP < 0 || PAD_LEFT < 0 || PAD_BOTTOM < 0 || PAD_RIGHT < 0)
    begin : g_bad_dims
      $error("fm_padding: image sizes must be positive and padding non-negative");
    end
  endgenerate

  // ---- output position ----------------------------------------------------------------------
  logic [FW-1:0] sf;  // word within the pixel
  logic [XW-1:0] ox;  // output column
  logic [YW-1:0] oy;  // output row
  logic col_in;  // PAD_LEFT <= ox < PAD_LEFT + IMG_W
  logic row_in;  // PAD_TOP <= oy < PAD_TOP + IMG_H
  logic at_start;  // at the first word of a frame

  wire sf_last = (FOLD == 1) || sf == FW'(FOLD - 1);
  wire ox_last = ox == XW'(OW - 1);
  wire oy_last = oy == YW'(OH - 1);
  wire [XW-1:0] ox_next = ox + 1'b1;
  wire [YW-1:0] oy_next = oy + 1'b1;
  wire pad = !(col_in && row_in);

  // ---- input register ---------------------------------------------------------------------
  logic [SIMD*ELEM_BITS-1:0] in_q;
  logic in_full;

  // A padding word needs no input, except the first word of a frame, which waits for it.
  assign m_axis_tvalid = pad ? (in_full || !at_start) : in_full;
  assign m_axis_tdata = pad ? PAD_WORD : in_q;

  wire pop = m_axis_tvalid && m_axis_tready;
  wire take = pop && !pad;  // the input word leaves
  assign s_axis_tready = !in_full || take;
  wire push = s_axis_tvalid && s_axis_tready;

  // ---- registers --------------------------------------------------------------------------
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      sf <= '0;
      ox <= '0;
      oy <= '0;
      col_in <= PAD_LEFT == 0;
      row_in <= PAD_TOP == 0;
      at_start <= 1'b1;
      in_full <= 1'b0;
    end else begin
      if (pop) begin
        sf <= sf_last ? '0 : sf + 1'b1;
        at_start <= sf_last && ox_last && oy_last;
        if (sf_last) begin
          // Next column; the image starts at PAD_LEFT and ends before PAD_LEFT + IMG_W.
          ox <= ox_last ? '0 : ox_next;
          if (ox_last) col_in <= PAD_LEFT == 0;
          else if (ox_next == XW'(PAD_LEFT)) col_in <= 1'b1;
          else if (ox_next == XW'(PAD_LEFT + IMG_W)) col_in <= 1'b0;
          if (ox_last) begin
            // Next row, likewise.
            oy <= oy_last ? '0 : oy_next;
            if (oy_last) row_in <= PAD_TOP == 0;
            else if (oy_next == YW'(PAD_TOP)) row_in <= 1'b1;
            else if (oy_next == YW'(PAD_TOP + IMG_H)) row_in <= 1'b0;
          end
        end
      end
      if (push) in_full <= 1'b1;
      else if (take) in_full <= 1'b0;
    end
  end

  // The data register needs no reset: it is only read while in_full is set.
  always_ff @(posedge clk) begin
    if (push) in_q <= s_axis_tdata;
  end
endmodule
