// Parallel sliding-window generator: the layer ConvolutionInputGenerator with
// parallel_window = 1 (python/qnn2fpga/layers/convolution_input_generator.py). One input
// pixel per cycle in, at most one whole window per cycle out, so a convolution can run at
// one output pixel per cycle.
//
// Streams (element i of a word at bits [i*ELEM_BITS +: ELEM_BITS], values passed through
// unchanged):
//   s_axis_tdata: the NHWC image, one whole pixel (CHANNELS elements) per word, in the
//                 order for iy < IFM_H, for ix < IFM_W.
//   m_axis_tdata: one whole window per word, for oy < OFM_H, for ox < OFM_W; element
//                 (ky*K_W + kx)*CHANNELS + c = pixel (oy*STRIDE_H + ky*DIL_H,
//                 ox*STRIDE_W + kx*DIL_W), channel c: the order of the serial generator
//                 (convolution_input_generator.sv) and of the layer's numpy `execute`.
//                 With SIMD = CHANNELS its depthwise order is the same order.
// Frames follow each other without a gap on either stream. No padding (FMPadding does
// that); a 1-D window is IFM_H = K_H = 1.
//
// Window: the pixel at input position (iy, ix) completes the window whose bottom-right
// tap it is, when there is one: iy = (K_H-1)*DIL_H + oy*STRIDE_H and
// ix = (K_W-1)*DIL_W + ox*STRIDE_W for some output pixel (oy, ox). Two registers hold the
// next such row and column (ny, nx), stepped by the stride at each hit, so no division.
//
// Line buffer (K_H > 1): a delay line of LB_DEPTH = DIL_H*IFM_W pixels in one simple
// dual-port RAM (rtl/common/ram_sdp.sv, RAM_STYLE) of (K_H-1)*CHANNELS elements per word,
// used as a circular buffer over the input taken as one endless sequence of pixels (frame
// after frame): pixel g reads address g mod LB_DEPTH, which holds the column of pixel
// g - LB_DEPTH, [pixel g - LB_DEPTH, g - 2*LB_DEPTH, ..., g - (K_H-1)*LB_DEPTH] (lane m =
// m+1 dilated rows above g), then writes [pixel g, lanes 0 .. K_H-3] there. So each
// pixel brings its whole window column: the pixel itself and the K_H-1 taps above it,
// (K_H-1)*DIL_H image rows of buffer in all. A one-word delay line (IFM_W = DIL_H = 1) is
// a register (a RAM would read the old word in the cycle the previous pixel writes it).
// Rows of the previous frame are read only by rows that complete no window.
// Register window: the last SPAN-1 columns (SPAN = (K_W-1)*DIL_W + 1), shifted by one
// column per pixel; the window's taps are the new column and columns DIL_W, 2*DIL_W, ...
// back. Columns of the previous row shift out before a window of this row reads them.
//
// Pipeline and back-pressure: input words enter a 2-pixel queue (rtl/common/
// axis_skid_buffer.sv: s_axis_tready from a register); its head moves into stage B while issuing the
// line-buffer read; stage B, with the read data, writes the line buffer, shifts the
// register window and, when its pixel completes a window, loads the output register
// (m_axis_tdata, m_axis_tvalid registers). Stage B waits (holding the read data, since
// nothing else reads then) while a completed window finds the output register full;
// a pixel completing no window never waits. No word is lost, and at full rate every
// stage moves every cycle.
//
// Timing without stalls (checked by the testbench through the layer's cycles() and
// latency): a window leaves 3 cycles after the input handshake of the pixel completing it
// (queue, line-buffer read, output register); a frame takes IFM_H*IFM_W cycles, one pixel
// per cycle, and frames overlap (the next frame's first rows go in while nothing else is
// left to compute). When the stride leaves the last rows or columns of the image unused,
// the last window of a frame leaves before those pixels arrive.
module convolution_input_generator_parallel #(
    parameter int IFM_H     = 4,
    parameter int IFM_W     = 4,
    parameter int CHANNELS  = 2,
    parameter int K_H       = 3,
    parameter int K_W       = 3,
    parameter int STRIDE_H  = 1,
    parameter int STRIDE_W  = 1,
    parameter int DIL_H     = 1,
    parameter int DIL_W     = 1,
    parameter int ELEM_BITS = 4,
    parameter RAM_STYLE = "auto"  // line buffer: auto, block (BRAM), distributed (LUTRAM), ultra
) (
    input  logic                                  clk,
    input  logic                                  rst_n,
    input  logic [          CHANNELS*ELEM_BITS-1:0] s_axis_tdata,
    input  logic                                  s_axis_tvalid,
    output logic                                  s_axis_tready,
    output logic [K_H*K_W*CHANNELS*ELEM_BITS-1:0] m_axis_tdata,
    output logic                                  m_axis_tvalid,
    input  logic                                  m_axis_tready
);
  localparam int PW = CHANNELS * ELEM_BITS;  // one pixel
  localparam int Y0 = (K_H - 1) * DIL_H;  // input row of the first window's last row
  localparam int X0 = (K_W - 1) * DIL_W;  // input column of a row's first window's last column
  localparam int SPAN = X0 + 1;  // columns from a window's first to its last
  localparam int NCOLS = (SPAN > 1) ? SPAN - 1 : 1;  // register window columns (>= 1 declared)
  localparam int LB_DEPTH = DIL_H * IFM_W;  // delay line, pixels
  localparam int LANES = (K_H > 1) ? K_H - 1 : 1;  // taps above a pixel (>= 1 declared)
  localparam int AW = (LB_DEPTH > 1) ? $clog2(LB_DEPTH) : 1;  // as in ram_sdp
  // After the last window row (column) ny (nx) lies past the image, by less than a stride:
  // Y0 + OFM_H*STRIDE_H > IFM_H - 1 for OFM_H = (IFM_H - 1 - Y0) / STRIDE_H + 1.
  localparam int YW = $clog2(IFM_H + STRIDE_H + 1);
  localparam int XW = $clog2(IFM_W + STRIDE_W + 1);

  generate
    if (CHANNELS < 1 || ELEM_BITS < 1) begin : g_bad_size
      $error("convolution_input_generator_parallel: CHANNELS and ELEM_BITS must be positive");
    end
    if (K_H < 1 || K_W < 1 || STRIDE_H < 1 || STRIDE_W < 1 || DIL_H < 1 || DIL_W < 1) begin : g_bad_k
      $error("convolution_input_generator_parallel: kernel, stride and dilation must be positive");
    end
    if (IFM_H < Y0 + 1 || IFM_W < X0 + 1) begin : g_bad_dim
      $error("convolution_input_generator_parallel: the (dilated) kernel is larger than the image");
    end
  endgenerate

  // ---- input queue: a skid buffer of 2 pixels (ready, valid and data from registers) -------
  logic [PW-1:0] q_data;
  logic q_valid;

  // ---- stage B: a pixel with its line-buffer read ----------------------------------------
  logic b_valid, b_hit;
  logic [PW-1:0] b_pix;
  logic [AW-1:0] b_addr;
  wire out_free = !m_axis_tvalid || m_axis_tready;
  wire b_adv = b_valid && (!b_hit || out_free);  // stage B finishes its pixel this cycle
  wire b_free = !b_valid || b_adv;
  wire move = q_valid && b_free;  // the queue's head enters stage B

  axis_skid_buffer #(
      .WIDTH(PW)
  ) input_queue (
      .clk(clk),
      .rst_n(rst_n),
      .s_axis_tdata(s_axis_tdata),
      .s_axis_tvalid(s_axis_tvalid),
      .s_axis_tready(s_axis_tready),
      .m_axis_tdata(q_data),
      .m_axis_tvalid(q_valid),
      .m_axis_tready(b_free)
  );

  // Position of the next pixel to enter stage B, and the next window row and column.
  logic [YW-1:0] iy, ny;
  logic [XW-1:0] ix, nx;
  logic [AW-1:0] lb_addr;
  wire last_x = ix == XW'(IFM_W - 1);
  wire last_y = iy == YW'(IFM_H - 1);
  // The next window column (row) after this pixel (row): one stride on at a hit.
  wire [XW-1:0] nx_step = (ix == nx) ? nx + XW'(STRIDE_W) : nx;
  wire [YW-1:0] ny_step = (iy == ny) ? ny + YW'(STRIDE_H) : ny;

  // ---- line buffer: the K_H-1 taps above stage B's pixel -----------------------------------
  logic [LANES*PW-1:0] lanes;  // lane m: the pixel m+1 dilated rows above
  logic [LANES*PW-1:0] lb_wr_data;  // [pixel, lanes 0 .. K_H-3]
  generate
    if (K_H == 1) begin : g_no_lb
      assign lanes = '0;
      assign lb_wr_data = '0;
    end else begin : g_lb
      if (K_H == 2) begin : g_wr1
        assign lb_wr_data = b_pix;
      end else begin : g_wrn
        assign lb_wr_data = {lanes[(K_H-2)*PW-1:0], b_pix};
      end
      if (LB_DEPTH == 1) begin : g_reg
        logic [LANES*PW-1:0] delay;
        always_ff @(posedge clk) if (b_adv) delay <= lb_wr_data;
        assign lanes = delay;
      end else begin : g_ram
        ram_sdp #(
            .WIDTH(LANES * PW),
            .DEPTH(LB_DEPTH),
            .RAM_STYLE(RAM_STYLE),
            .WRITEABLE(1)
        ) line_buffer (
            .clk(clk),
            .wr_en(b_adv),
            .wr_addr(b_addr),
            .wr_data(lb_wr_data),
            .rd_en(move),
            .rd_addr(lb_addr),
            .rd_data(lanes)
        );
      end
    end
  endgenerate

  // ---- register window and the window it completes -----------------------------------------
  logic [K_H*PW-1:0] new_col;  // row m: the pixel m dilated rows above stage B's
  logic [K_H*PW-1:0] cols[NCOLS];  // cols[j-1]: the column j pixels back
  logic [K_H*K_W*PW-1:0] window;
  generate
    if (K_H == 1) begin : g_col1
      assign new_col = b_pix;
    end else begin : g_coln
      assign new_col = {lanes, b_pix};
    end
    if (SPAN > 1) begin : g_shift
      always_ff @(posedge clk) begin
        if (b_adv) begin
          cols[0] <= new_col;
          for (int j = 1; j < NCOLS; j++) cols[j] <= cols[j-1];
        end
      end
    end else begin : g_no_shift
      assign cols[0] = '0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_cols = ^cols[0];
      /* verilator lint_on UNUSEDSIGNAL */
    end
    for (genvar ky = 0; ky < K_H; ky++) begin : g_ky
      for (genvar kx = 0; kx < K_W; kx++) begin : g_kx
        localparam int J = (K_W - 1 - kx) * DIL_W;  // columns back
        localparam int M = K_H - 1 - ky;  // dilated rows above
        if (J == 0) begin : g_new
          assign window[(ky*K_W+kx)*PW+:PW] = new_col[M*PW+:PW];
        end else begin : g_old
          assign window[(ky*K_W+kx)*PW+:PW] = cols[J-1][M*PW+:PW];
        end
      end
    end
  endgenerate

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      b_valid <= 1'b0;
      b_hit <= 1'b0;
      iy <= '0;
      ix <= '0;
      ny <= YW'(Y0);
      nx <= XW'(X0);
      lb_addr <= '0;
      m_axis_tvalid <= 1'b0;
    end else begin
      if (move) begin
        b_valid <= 1'b1;
        b_hit <= ix == nx && iy == ny;
        lb_addr <= (lb_addr == AW'(LB_DEPTH - 1)) ? '0 : lb_addr + 1'b1;
        // The next pixel: column, then row, then the next frame.
        ix <= last_x ? '0 : ix + 1'b1;
        nx <= last_x ? XW'(X0) : nx_step;
        if (last_x) begin
          iy <= last_y ? '0 : iy + 1'b1;
          ny <= last_y ? YW'(Y0) : ny_step;
        end
      end else if (b_adv) begin
        b_valid <= 1'b0;
      end
      if (b_adv && b_hit) m_axis_tvalid <= 1'b1;
      else if (m_axis_tready) m_axis_tvalid <= 1'b0;
    end
  end

  // Data registers (no reset).
  always_ff @(posedge clk) begin
    if (move) begin
      b_pix <= q_data;
      b_addr <= lb_addr;
    end
    if (b_adv && b_hit) m_axis_tdata <= window;
  end

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_ok = ^{b_addr, lb_addr, lanes, lb_wr_data};  // no line buffer (K_H = 1, LB_DEPTH = 1)
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
