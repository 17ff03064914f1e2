// Streaming max pooling of NHWC images (the StreamingMaxPool layer): out[oy][ox][c] is the
// largest input in the POOL_H x POOL_W window at row oy*STRIDE_H, column ox*STRIDE_W. No
// padding. CEIL_MODE = 0 keeps only windows lying inside the image (the rows and columns
// past the last one are read and dropped); CEIL_MODE = 1 also keeps a last, partial window
// on an axis when it starts inside the image (it pools what it covers). Windows may overlap
// (POOL > STRIDE) or leave gaps (POOL < STRIDE).
//
// Streams (element i of a word at bits [i*BITS +: BITS]):
//   s_axis_tdata: PE channels of one pixel per word; the CHANNELS/PE words of a pixel, the
//                 pixels of a row, the rows of an image (row-major NHWC), frame after frame.
//   m_axis_tdata: the same packing for the OH x OW output image.
// Elements are two's complement if SIGNED, else unsigned. A BIPOLAR element (1 = +1,
// 0 = -1) orders correctly as a 1-bit unsigned number: SIGNED = 0.
//
// Two stages, each keeping running maxima of the windows still open:
//   horizontal: every pixel updates the (at most NA = ceil(POOL_W/STRIDE_W)) open column
//     windows of its row. Each open window keeps one running maximum per channel word in
//     a CF-word delay line (CF = CHANNELS/PE) that shifts once per input word, so the word
//     of the same channels of the previous pixel comes out as the current word goes in.
//     The pixel that closes a column window (its last column, or the last of the row)
//     passes the window's row maximum on, one word per input word at most.
//   vertical: the row maxima of every column window and channel word (VN = OW*CF words,
//     always in the same order, one pass per row) update the (at most NAV =
//     ceil(POOL_H/STRIDE_H)) open row windows: one ram_sdp word holds NAV running maxima,
//     read when the row maximum is made and written back one cycle later (a write and a
//     read of the same word in one cycle are forwarded). The row that closes a row window
//     sends its maxima out. Open windows sit in ring slots (window n in slot n mod NA or
//     NAV): NA (NAV) windows open at once at most, and each window closes within its row
//     (image), as it ends by the last column (row) at the latest.
// Each input word closes at most one output window (in ceil mode, the partial window's
// predecessor closes before the last row/column), so one output word per input word at
// most: the input side is the busier one and runs at one word per cycle.
//
// Timing without stalls: an output word leaves 2 cycles after the input word that closes
// its window. The frame's last output word is held until the frame's last input word has
// gone in, so that a frame takes its input time even when CEIL_MODE = 0 drops rows or
// columns at its end: N = IMG_H*IMG_W*CHANNELS/PE input words take N + 2 cycles (N + 1
// with a dropped tail) from the first input handshake to the last output handshake.
//
// Flow control: a word is accepted while the middle register is free or moving on, so
// s_axis_tready follows m_axis_tready combinationally when the output register is full.
module streaming_max_pool #(
    parameter int POOL_H    = 2,
    parameter int POOL_W    = 2,
    parameter int STRIDE_H  = 2,
    parameter int STRIDE_W  = 2,
    parameter int IMG_H     = 4,
    parameter int IMG_W     = 4,
    parameter int CHANNELS  = 1,
    parameter int PE        = 1,
    parameter int BITS      = 8,
    parameter int SIGNED    = 1,
    parameter int CEIL_MODE = 0,
    parameter RAM_STYLE = "auto"  // ram_sdp style of the row of running maxima
) (
    input  logic               clk,
    input  logic               rst_n,
    input  logic [PE*BITS-1:0] s_axis_tdata,
    input  logic               s_axis_tvalid,
    output logic               s_axis_tready,
    output logic [PE*BITS-1:0] m_axis_tdata,
    output logic               m_axis_tvalid,
    input  logic               m_axis_tready
);
  // Window positions along one axis: those inside the image, plus in ceil mode a last
  // partial one that starts inside it (qnn2fpga.layers.numerics.sliding_window_dim).
  function automatic int out_dim(int img, int k, int s, int ceil_mode);
    int n;
    if (ceil_mode == 0) n = (img - k) / s + 1;
    else begin
      n = (img - k + s - 1) / s + 1;
      if ((n - 1) * s >= img) n = n - 1;
    end
    out_dim = n;
  endfunction

  function automatic int min2(int a, int b);
    min2 = (a < b) ? a : b;
  endfunction

  function automatic int cnt_bits(int n);  // bits of a counter 0 .. n-1
    cnt_bits = (n > 1) ? $clog2(n) : 1;
  endfunction

  localparam int DW = PE * BITS;  // stream word
  localparam int CF = CHANNELS / PE;  // words per pixel
  localparam int OH = out_dim(IMG_H, POOL_H, STRIDE_H, CEIL_MODE);
  localparam int OW = out_dim(IMG_W, POOL_W, STRIDE_W, CEIL_MODE);
  // Open windows at once, at most (no more than there are windows).
  localparam int NA = min2((POOL_W + STRIDE_W - 1) / STRIDE_W, OW);
  localparam int NAV = min2((POOL_H + STRIDE_H - 1) / STRIDE_H, OH);
  localparam int LAST_START_X = (OW - 1) * STRIDE_W;  // column of the last window's start
  localparam int LAST_START_Y = (OH - 1) * STRIDE_H;
  // Where the last window ends: the frame's last output word is made at column LAST_X of
  // row LAST_Y; the pixels after it are a dropped tail (CEIL_MODE = 0, or a stride
  // beyond the window).
  localparam int LAST_X = min2(LAST_START_X + POOL_W - 1, IMG_W - 1);
  localparam int LAST_Y = min2(LAST_START_Y + POOL_H - 1, IMG_H - 1);
  localparam bit HAS_TAIL = LAST_X != IMG_W - 1 || LAST_Y != IMG_H - 1;
  localparam int VN = OW * CF;  // words of the row of running maxima
  localparam int CW = cnt_bits(CF);
  localparam int XW = cnt_bits(IMG_W);
  localparam int YW = cnt_bits(IMG_H);
  localparam int SXW = cnt_bits(STRIDE_W);
  localparam int SYW = cnt_bits(STRIDE_H);
  localparam int HOW = cnt_bits(POOL_W);  // offset of a column inside its window
  localparam int VOW = cnt_bits(POOL_H);
  localparam int NAW = cnt_bits(NA);
  localparam int NVW = cnt_bits(NAV);
  localparam int VAW = cnt_bits(VN);

  generate
    if (CHANNELS < 1 || PE < 1 || CHANNELS % PE != 0) begin : g_bad_fold
      $error("streaming_max_pool: PE must divide CHANNELS");
    end
    if (POOL_H < 1 || POOL_W < 1 || STRIDE_H < 1 || STRIDE_W < 1 || BITS < 1) begin : g_bad_size
      $error("streaming_max_pool: pool sizes, strides and BITS must be positive");
    end
    if (IMG_H < POOL_H || IMG_W < POOL_W) begin : g_bad_image
      $error("streaming_max_pool: the pool window does not fit the image");
    end
  endgenerate

  // Element-wise maximum of two words.
  function automatic logic [DW-1:0] word_max(input logic [DW-1:0] p, input logic [DW-1:0] q);
    logic [BITS-1:0] a, b;
    logic a_wins;
    for (int i = 0; i < PE; i++) begin
      a = p[i*BITS+:BITS];
      b = q[i*BITS+:BITS];
      a_wins = (SIGNED != 0) ? ($signed(a) > $signed(b)) : (a > b);
      word_max[i*BITS+:BITS] = a_wins ? a : b;
    end
  endfunction

  // ---- position of the current input word -------------------------------------------------
  logic [CW-1:0] cf;  // channel word of the pixel
  logic [XW-1:0] x;  // column
  logic [YW-1:0] y;  // row
  logic [SXW-1:0] sx;  // x mod STRIDE_W
  logic [SYW-1:0] sy;  // y mod STRIDE_H
  wire last_cf = cf == CW'(CF - 1);
  wire last_x = x == XW'(IMG_W - 1);
  wire last_y = y == YW'(IMG_H - 1);

  // ---- stage A: horizontal windows, combinational on the input word -----------------------
  // Column windows opened before the current pixel (ring slot, offset of this pixel in it).
  logic [NA-1:0] h_open;
  logic [NA*HOW-1:0] h_off;
  logic [NAW-1:0] h_next;  // slot of the next window to open
  logic [CF*NA*DW-1:0] h_line;  // delay lines, newest word at the bottom
  wire [NA*DW-1:0] h_prev = h_line[(CF-1)*NA*DW+:NA*DW];  // same channels, previous pixel

  // A window opens at every STRIDE_W-th column up to the last window's start (a bound that
  // is no bound when the last window starts in the last column: no constant compare).
  logic h_room, v_room;
  if (LAST_START_X < IMG_W - 1) begin : g_h_room
    assign h_room = x <= XW'(LAST_START_X);
  end else begin : g_h_any
    assign h_room = 1'b1;
  end
  if (LAST_START_Y < IMG_H - 1) begin : g_v_room
    assign v_room = y <= YW'(LAST_START_Y);
  end else begin : g_v_any
    assign v_room = 1'b1;
  end
  wire h_start = sx == '0 && h_room;
  logic [NA-1:0] h_first, h_in, h_end;  // slot: opens / takes part / closes here
  logic [NA*HOW-1:0] h_pos;  // offset of the current column in the slot's window
  logic [NA*DW-1:0] h_new;  // updated running maxima
  logic [DW-1:0] h_val;  // row maximum of the closing window
  always_comb begin
    h_val = '0;
    for (int j = 0; j < NA; j++) begin
      h_first[j] = h_start && h_next == NAW'(j);
      h_in[j] = h_open[j] || h_first[j];
      h_pos[j*HOW+:HOW] = h_first[j] ? '0 : h_off[j*HOW+:HOW];
      h_end[j] = h_in[j] && (h_pos[j*HOW+:HOW] == HOW'(POOL_W - 1) || last_x);
      // A slot without an open window holds junk, overwritten when one opens there.
      h_new[j*DW+:DW] = h_first[j] ? s_axis_tdata : word_max(h_prev[j*DW+:DW], s_axis_tdata);
      if (h_end[j]) h_val = h_new[j*DW+:DW];
    end
  end
  wire h_done = |h_end;

  // Row windows open in the current row, the same way.
  logic [NAV-1:0] v_open;
  logic [NAV*VOW-1:0] v_off;
  logic [NVW-1:0] v_next;
  wire v_start = sy == '0 && v_room;
  logic [NAV-1:0] v_first, v_in, v_end;
  logic [NAV*VOW-1:0] v_pos;
  always_comb begin
    for (int j = 0; j < NAV; j++) begin
      v_first[j] = v_start && v_next == NVW'(j);
      v_in[j] = v_open[j] || v_first[j];
      v_pos[j*VOW+:VOW] = v_first[j] ? '0 : v_off[j*VOW+:VOW];
      v_end[j] = v_in[j] && (v_pos[j*VOW+:VOW] == VOW'(POOL_H - 1) || last_y);
    end
  end

  logic [VAW-1:0] va;  // row-maxima word of the next closing column window

  // ---- stage B: vertical windows, one cycle later --------------------------------------
  logic b_valid;
  logic [DW-1:0] b_h;  // the row maximum
  logic [VAW-1:0] b_addr;
  logic [NAV-1:0] b_first, b_end;
  logic b_hold;  // the frame's last output word, its frame's tail still to come
  logic b_fwd;  // the memory word read was being written: take b_fwd_data
  logic [NAV*DW-1:0] b_fwd_data;
  logic [NAV*DW-1:0] rd_data;

  logic out_full, out_hold;
  logic [DW-1:0] out_data;
  wire pop = m_axis_tvalid && m_axis_tready;
  wire out_free = !out_full || pop;

  logic [NAV*DW-1:0] v_new;
  logic [DW-1:0] v_val;
  always_comb begin
    logic [DW-1:0] old;
    v_val = '0;
    for (int j = 0; j < NAV; j++) begin
      old = b_fwd ? b_fwd_data[j*DW+:DW] : rd_data[j*DW+:DW];
      v_new[j*DW+:DW] = b_first[j] ? b_h : word_max(old, b_h);
      if (b_end[j]) v_val = v_new[j*DW+:DW];
    end
  end
  wire b_emit = |b_end;
  wire b_leaves = b_valid && (!b_emit || out_free);

  assign s_axis_tready = !b_valid || b_leaves;
  wire push = s_axis_tvalid && s_axis_tready;
  // A closing column window in a row some row window takes part in goes on to stage B.
  wire item = push && h_done && |v_in;

  ram_sdp #(
      .WIDTH(NAV * DW),
      .DEPTH(VN),
      .RAM_STYLE(RAM_STYLE)
  ) u_rows (
      .clk(clk),
      .wr_en(b_leaves),
      .wr_addr(b_addr),
      .wr_data(v_new),
      .rd_en(item),
      .rd_addr(va),
      .rd_data(rd_data)
  );

  // ---- output ---------------------------------------------------------------------------
  // The frame's last word waits for the end of the frame's input (a dropped tail). The
  // hold travels with that word, so an earlier frame's last word still waiting for the
  // consumer is never held by the next frame's tail.
  wire frame_end = push && last_cf && last_x && last_y;
  assign m_axis_tvalid = out_full && !out_hold;
  assign m_axis_tdata = out_data;

  // ---- registers --------------------------------------------------------------------------
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      cf <= '0;
      x <= '0;
      y <= '0;
      sx <= '0;
      sy <= '0;
      h_open <= '0;
      h_next <= '0;
      v_open <= '0;
      v_next <= '0;
      va <= '0;
      b_valid <= 1'b0;
      out_full <= 1'b0;
      b_hold <= 1'b0;
      out_hold <= 1'b0;
    end else begin
      if (push) begin
        cf <= last_cf ? '0 : cf + 1'b1;
        if (item) va <= (va == VAW'(VN - 1)) ? '0 : va + 1'b1;
        if (last_cf) begin  // the pixel ends
          x <= last_x ? '0 : x + 1'b1;
          sx <= (last_x || sx == SXW'(STRIDE_W - 1)) ? '0 : sx + 1'b1;
          h_open <= h_in & ~h_end;  // the last column closes every window
          if (last_x) h_next <= '0;
          else if (h_start) h_next <= (h_next == NAW'(NA - 1)) ? '0 : h_next + 1'b1;
          if (last_x) begin  // the row ends
            y <= last_y ? '0 : y + 1'b1;
            sy <= (last_y || sy == SYW'(STRIDE_H - 1)) ? '0 : sy + 1'b1;
            v_open <= v_in & ~v_end;
            if (last_y) v_next <= '0;
            else if (v_start) v_next <= (v_next == NVW'(NAV - 1)) ? '0 : v_next + 1'b1;
          end
        end
      end
      if (item) b_valid <= 1'b1;
      else if (b_leaves) b_valid <= 1'b0;
      if (b_leaves && b_emit) out_full <= 1'b1;
      else if (pop) out_full <= 1'b0;
      // (A tail word makes no item: setting and clearing a hold never coincide.)
      if (item) b_hold <= HAS_TAIL && last_cf && x == XW'(LAST_X) && y == YW'(LAST_Y);
      else if (frame_end) b_hold <= 1'b0;
      if (b_leaves && b_emit) out_hold <= b_hold && !frame_end;
      else if (frame_end) out_hold <= 1'b0;
    end
  end

  // Data registers (no reset). The delay lines shift on every input word.
  if (CF > 1) begin : g_line
    always_ff @(posedge clk) if (push) h_line <= {h_line[(CF-1)*NA*DW-1:0], h_new};
  end else begin : g_reg
    always_ff @(posedge clk) if (push) h_line <= h_new;
  end

  always_ff @(posedge clk) begin
    if (push && last_cf) begin
      for (int j = 0; j < NA; j++) h_off[j*HOW+:HOW] <= h_pos[j*HOW+:HOW] + 1'b1;
      if (last_x) begin
        for (int j = 0; j < NAV; j++) v_off[j*VOW+:VOW] <= v_pos[j*VOW+:VOW] + 1'b1;
      end
    end
    if (item) begin
      b_h <= h_val;
      b_addr <= va;
      b_first <= v_first;
      b_end <= v_in & v_end;
      b_fwd <= b_leaves && b_addr == va;
      b_fwd_data <= v_new;
    end
    if (b_leaves && b_emit) begin
      out_data <= v_val;
    end
  end
endmodule
