// Sliding-window generator (im2col) in front of a convolution: the layer
// ConvolutionInputGenerator of python/qnn2fpga/layers/convolution_input_generator.py.
//
// Streams (element i of a word at bits [i*ELEM_BITS +: ELEM_BITS], values passed through
// unchanged, so the element datatype does not matter here):
//   s_axis_tdata: the NHWC image, SIMD channels per word, in the order
//                 for iy < IFM_H, for ix < IFM_W, for cf < CF  (CF = CHANNELS / SIMD),
//                 word (iy, ix, cf) holding channels cf*SIMD .. cf*SIMD + SIMD-1.
//   m_axis_tdata: for every output pixel the K_H x K_W window, SIMD channels per word:
//                 for oy < OFM_H, for ox < OFM_W, for ky < K_H, for kx < K_W, for cf < CF,
//                 the input word (oy*STRIDE_H + ky*DIL_H, ox*STRIDE_W + kx*DIL_W, cf).
//                 That is element (ky*K_W + kx)*CHANNELS + c of output pixel (oy, ox), the
//                 ordering of qonnx's Im2Col and of the layer's numpy `execute`.
// Frames follow each other without a gap on either stream. No padding (FMPadding does
// that); a 1-D window is IFM_H = K_H = 1.
// DEPTHWISE = 1 (in front of a VVAU, whose PE is this SIMD): the same words per window in
// the depthwise order, channel fold outermost:
//                 for oy, for ox, for cf < CF, for ky < K_H, for kx < K_W,
//                 so a VVAU accumulates one group of SIMD channels over the whole window
//                 before the next (python: vvau.depthwise_order).
//
// Line buffer: one simple dual-port RAM (rtl/common/ram_sdp.sv) of DEPTH words used as a
// circular buffer over the input stream taken as one endless sequence of words (frame
// after frame): input word g (g = 0, 1, ... counted from reset) lives at address
// g mod DEPTH. The reader walks the windows. For the current output pixel it keeps
//   base  = the input word index of the window's first word (ky = kx = cf = 0),
//   off   = index of the word being read relative to base:
//           off = (ky*DIL_H*IFM_W + kx*DIL_W)*CF + cf, at most WIN-1, with
//           WIN = ((K_H-1)*DIL_H*IFM_W + (K_W-1)*DIL_W + 1) * CF (the window's span),
//   ahead = words written - base (signed: the input may still be behind a new base when
//           the stride skips input).
// The reader reads word base+off once it has been written (off < ahead); the writer takes
// an input word while it cannot overwrite a word the current or a later window still
// needs (ahead < DEPTH). Passing from a pixel to the next moves base by PIX_STEP (next
// column), ROW_STEP (first column of the next output row) or FRAME_STEP (first window of
// the next frame). Addresses are kept modulo DEPTH by one conditional subtraction (every
// step is below DEPTH).
//
// DEPTH = WIN + max(PIX_STEP, ROW_STEP, FRAME_STEP): when the reader moves on, the
// writer has been allowed to store the whole next window, so after the first window the
// reader never waits for the line buffer while the input keeps up (also across frames,
// whose fills overlap the previous frame's last windows), and the writer never waits
// when the input is the busier side. For a stride-1 3x3 window that is about 4 image rows
// (2*WIN); a 1-D window needs 2*WIN words, not whole rows.
//
// Output: a read is issued into the RAM (1 cycle) and lands in a 2-word output queue whose
// head drives m_axis_tdata; a read is issued only when the queue has room for it, so
// back-pressure never loses a word and m_axis_tvalid, m_axis_tdata and s_axis_tready come
// from registers.
//
// Timing without stalls (checked by the testbench through the layer's cycles() and
// latency): the first output word leaves 3 cycles after the first input handshake; the
// window of the first output pixel waits for the rows it spans, so a frame whose output is
// the busier side takes OFM_H*OFM_W*K_H*K_W*CF output cycles plus at most
// WIN + 3 cycles of fill; a frame whose input is the busier side takes its IFM_H*IFM_W*CF
// input cycles plus a few cycles for the last windows.
module convolution_input_generator #(
    parameter int IFM_H     = 4,
    parameter int IFM_W     = 4,
    parameter int CHANNELS  = 2,
    parameter int K_H       = 3,
    parameter int K_W       = 3,
    parameter int STRIDE_H  = 1,
    parameter int STRIDE_W  = 1,
    parameter int DIL_H     = 1,
    parameter int DIL_W     = 1,
    parameter int SIMD      = 1,
    parameter int ELEM_BITS = 4,
    parameter int DEPTHWISE = 0,  // 1: channel fold outermost in each window (see above)
    parameter RAM_STYLE = "auto"  // line buffer: auto, block (BRAM), distributed (LUTRAM), ultra
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
  localparam int W = SIMD * ELEM_BITS;  // stream word width
  localparam int CF = CHANNELS / SIMD;  // words per pixel
  localparam int OFM_H = (IFM_H - DIL_H * (K_H - 1) - 1) / STRIDE_H + 1;
  localparam int OFM_W = (IFM_W - DIL_W * (K_W - 1) - 1) / STRIDE_W + 1;

  // Reader offsets (in words, relative to base) and steps of base.
  localparam int WIN = ((K_H - 1) * DIL_H * IFM_W + (K_W - 1) * DIL_W + 1) * CF;
  localparam int KX_STEP = DIL_W * CF - (CF - 1);  // (ky, kx, CF-1) -> (ky, kx+1, 0)
  localparam int KY_STEP = (DIL_H * IFM_W - (K_W - 1) * DIL_W) * CF - (CF - 1);  // -> (ky+1, 0, 0)
  // DEPTHWISE: (cf, ky, kx) -> (cf, ky, kx+1) and -> (cf, ky+1, 0); the next cf restarts
  // from base + cf + 1.
  localparam int DW_KX_STEP = DIL_W * CF;
  localparam int DW_KY_STEP = (DIL_H * IFM_W - (K_W - 1) * DIL_W) * CF;
  localparam int PIX_STEP = STRIDE_W * CF;  // (oy, ox) -> (oy, ox+1)
  localparam int ROW_STEP = (STRIDE_H * IFM_W - (OFM_W - 1) * STRIDE_W) * CF;  // -> (oy+1, 0)
  localparam int FRAME_STEP = (IFM_H * IFM_W - (OFM_H - 1) * STRIDE_H * IFM_W
                               - (OFM_W - 1) * STRIDE_W) * CF;  // -> next frame (0, 0)
  localparam int MAX_STEP = (PIX_STEP > ROW_STEP)
      ? ((PIX_STEP > FRAME_STEP) ? PIX_STEP : FRAME_STEP)
      : ((ROW_STEP > FRAME_STEP) ? ROW_STEP : FRAME_STEP);
  localparam int DEPTH = WIN + MAX_STEP;  // line buffer words (see the header)

  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;  // as in ram_sdp
  localparam int OFFW = $clog2(WIN + 1);  // off
  localparam int AHW = $clog2(DEPTH + MAX_STEP + 1) + 1;  // ahead, signed
  localparam int CFW = (CF > 1) ? $clog2(CF) : 1;
  localparam int KXW = (K_W > 1) ? $clog2(K_W) : 1;
  localparam int KYW = (K_H > 1) ? $clog2(K_H) : 1;
  localparam int OXW = (OFM_W > 1) ? $clog2(OFM_W) : 1;
  localparam int OYW = (OFM_H > 1) ? $clog2(OFM_H) : 1;

  generate
    if (SIMD < 1 || CHANNELS < 1 || CHANNELS % SIMD != 0) begin : g_bad_fold
      $error("convolution_input_generator: SIMD must divide CHANNELS");
    end
    if (K_H < 1 || K_W < 1 || STRIDE_H < 1 || STRIDE_W < 1 || DIL_H < 1 || DIL_W < 1) begin : g_bad_k
      $error("convolution_input_generator: kernel, stride and dilation must be positive");
    end
    if (IFM_H < DIL_H * (K_H - 1) + 1 || IFM_W < DIL_W * (K_W - 1) + 1) begin : g_bad_dim
      $error("convolution_input_generator: the (dilated) kernel is larger than the image");
    end
  endgenerate

  // Adds a step below DEPTH to an address, modulo DEPTH.
  function automatic logic [AW-1:0] wrap_add(logic [AW-1:0] a, logic [AW:0] step);
    logic [AW:0] s;
    s = {1'b0, a} + step;
    wrap_add = (s >= (AW + 1)'(DEPTH)) ? AW'(s - (AW + 1)'(DEPTH)) : AW'(s);
  endfunction

  // ---- writer: input word g goes to address g mod DEPTH ------------------------------------
  logic [AW-1:0] wr_addr;
  logic signed [AHW-1:0] ahead;  // words written - base
  assign s_axis_tready = ahead < $signed(AHW'(DEPTH));
  wire wr = s_axis_tvalid && s_axis_tready;

  // ---- reader: window counters, offset and address ------------------------------------
  logic [CFW-1:0] cf;
  logic [KXW-1:0] kx;
  logic [KYW-1:0] ky;
  logic [OXW-1:0] ox;
  logic [OYW-1:0] oy;
  logic [OFFW-1:0] off;
  logic [AW-1:0] base_addr;  // base mod DEPTH
  logic [AW-1:0] rd_addr;  // (base + off) mod DEPTH

  wire last_cf = cf == CFW'(CF - 1);
  wire last_kx = kx == KXW'(K_W - 1);
  wire last_ky = ky == KYW'(K_H - 1);
  wire last_ox = ox == OXW'(OFM_W - 1);
  wire last_oy = oy == OYW'(OFM_H - 1);
  wire pixel_done = last_cf && last_kx && last_ky;  // the read of a window's last word
  // Base step after this pixel.
  wire [AHW-1:0] base_step = !last_ox ? AHW'(PIX_STEP) : !last_oy ? AHW'(ROW_STEP) : AHW'(FRAME_STEP);

  // ---- output queue: up to 2 words; a read lands one cycle after it is issued -------------
  logic [1:0] q_count;
  logic [W-1:0] q_data0, q_data1;  // head, next
  logic rd_pending;  // rd_data holds a word read in the previous cycle
  logic [W-1:0] rd_data;

  assign m_axis_tvalid = q_count != 2'd0;
  assign m_axis_tdata = q_data0;
  wire pop = m_axis_tvalid && m_axis_tready;
  // Room for one more read: the queue after this cycle, plus the new read, fits in 2.
  wire room = ({1'b0, q_count} + {2'b0, rd_pending} - {2'b0, pop}) <= 3'd1;
  wire written = $signed(AHW'(off)) < ahead;  // word base+off is in the buffer
  wire rd = room && written;

  ram_sdp #(
      .WIDTH(W),
      .DEPTH(DEPTH),
      .RAM_STYLE(RAM_STYLE),
      .WRITEABLE(1)
  ) line_buffer (
      .clk(clk),
      .wr_en(wr),
      .wr_addr(wr_addr),
      .wr_data(s_axis_tdata),
      .rd_en(rd),
      .rd_addr(rd_addr),
      .rd_data(rd_data)
  );

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      wr_addr <= '0;
      ahead <= '0;
      cf <= '0;
      kx <= '0;
      ky <= '0;
      ox <= '0;
      oy <= '0;
      off <= '0;
      base_addr <= '0;
      rd_addr <= '0;
      rd_pending <= 1'b0;
      q_count <= '0;
    end else begin
      if (wr) wr_addr <= wrap_add(wr_addr, (AW + 1)'(1));
      ahead <= ahead + AHW'(wr) - ((rd && pixel_done) ? base_step : '0);
      rd_pending <= rd;
      if (rd) begin
        // Next word of the window: cf, then kx, then ky (DEPTHWISE: kx, then ky, then cf);
        // after the window's last word the next pixel (ox, then oy, then the next frame)
        // from its new base.
        if (DEPTHWISE != 0 && !last_kx) begin
          kx <= kx + 1'b1;
          off <= off + OFFW'(DW_KX_STEP);
          rd_addr <= wrap_add(rd_addr, (AW + 1)'(DW_KX_STEP));
        end else if (DEPTHWISE != 0 && !last_ky) begin
          kx <= '0;
          ky <= ky + 1'b1;
          off <= off + OFFW'(DW_KY_STEP);
          rd_addr <= wrap_add(rd_addr, (AW + 1)'(DW_KY_STEP));
        end else if (DEPTHWISE != 0 && !last_cf) begin
          kx <= '0;
          ky <= '0;
          cf <= cf + 1'b1;
          off <= OFFW'(cf) + 1'b1;
          rd_addr <= wrap_add(base_addr, (AW + 1)'(cf) + 1'b1);
        end else if (!last_cf) begin
          cf <= cf + 1'b1;
          off <= off + 1'b1;
          rd_addr <= wrap_add(rd_addr, (AW + 1)'(1));
        end else if (!last_kx) begin
          cf <= '0;
          kx <= kx + 1'b1;
          off <= off + OFFW'(KX_STEP);
          rd_addr <= wrap_add(rd_addr, (AW + 1)'(KX_STEP));
        end else if (!last_ky) begin
          cf <= '0;
          kx <= '0;
          ky <= ky + 1'b1;
          off <= off + OFFW'(KY_STEP);
          rd_addr <= wrap_add(rd_addr, (AW + 1)'(KY_STEP));
        end else begin
          cf <= '0;
          kx <= '0;
          ky <= '0;
          off <= '0;
          ox <= last_ox ? '0 : ox + 1'b1;
          if (last_ox) oy <= last_oy ? '0 : oy + 1'b1;
          base_addr <= wrap_add(base_addr, (AW + 1)'(base_step));
          rd_addr <= wrap_add(base_addr, (AW + 1)'(base_step));
        end
      end
      q_count <= q_count + {1'b0, rd_pending} - {1'b0, pop};
    end
  end

  // Queue data: the arriving word goes behind the words that stay.
  always_ff @(posedge clk) begin
    if (pop) q_data0 <= q_data1;
    if (rd_pending) begin
      if (q_count == 2'd0 || (q_count == 2'd1 && pop)) q_data0 <= rd_data;
      else q_data1 <= rd_data;
    end
  end
endmodule
