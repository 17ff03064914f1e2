// Channel-wise accumulation over groups of PIXELS consecutive pixels (the GlobalAccPool
// layer with PIXELS = H*W, one sum per channel per image; the Pool layer with PIXELS =
// KH*KW, one sum per channel per window, behind a ConvolutionInputGenerator whose stream
// carries each window as KH*KW consecutive pixels). out[g][c] = sum over p < PIXELS of
// in[g*PIXELS + p][c], exact in ACC_BITS bits (the layer sizes ACC_BITS for the range).
//
// Streams (element i of a word at bits [i*BITS +: BITS]):
//   s_axis_tdata: PE channels of one pixel per word; the CHANNELS/PE words of a pixel, then
//                 the next pixel; group after group.
//   m_axis_tdata: PE sums of ACC_BITS bits per word, the CHANNELS/PE words of a group.
// Input elements are two's complement if SIGNED, else unsigned; BIPOLAR = 1 reads a 1-bit
// element as +1 (1) or -1 (0). Sums are two's complement (ACC_BITS includes the sign bit
// when the sum can be negative; an unsigned sum is zero-extended into the same field).
//
// One running sum per channel word (CF = CHANNELS/PE words of PE*ACC_BITS bits, read
// asynchronously and written on the input handshake: LUTRAM, or a register when CF = 1). The first
// pixel of a group starts the sums, the last one sends them out: each of its words
// leaves one cycle after it arrives, as it is added. So N input words of a frame take
// N + 1 cycles from the first input handshake to the last output handshake, at one word
// per cycle; the input side is the busier one.
//
// Flow control: one output register; a word is accepted while the register is empty or
// leaving (s_axis_tready follows m_axis_tready combinationally when it is full).
module global_acc_pool #(
    parameter int CHANNELS = 1,
    parameter int PE       = 1,
    parameter int PIXELS   = 4,
    parameter int BITS     = 8,
    parameter int ACC_BITS = 10,
    parameter int SIGNED   = 1,
    parameter int BIPOLAR  = 0
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic [    PE*BITS-1:0] s_axis_tdata,
    input  logic                   s_axis_tvalid,
    output logic                   s_axis_tready,
    output logic [PE*ACC_BITS-1:0] m_axis_tdata,
    output logic                   m_axis_tvalid,
    input  logic                   m_axis_tready
);
  function automatic int cnt_bits(int n);  // bits of a counter 0 .. n-1
    cnt_bits = (n > 1) ? $clog2(n) : 1;
  endfunction

  localparam int CF = CHANNELS / PE;  // words per pixel
  localparam int AW = PE * ACC_BITS;  // output (and running sum) word
  localparam int CW = cnt_bits(CF);
  localparam int PW = cnt_bits(PIXELS);

  generate
    if (CHANNELS < 1 || PE < 1 || CHANNELS % PE != 0) begin : g_bad_fold
      $error("global_acc_pool: PE must divide CHANNELS");
    end
    if (PIXELS < 1 || BITS < 1 || ACC_BITS < BITS) begin : g_bad_size
      $error("global_acc_pool: PIXELS >= 1 and ACC_BITS >= BITS needed");
    end
  endgenerate

  // ---- position of the current input word ---------------------------------------------------
  logic [CW-1:0] cf;  // channel word of the pixel
  logic [PW-1:0] px;  // pixel of the group
  wire last_cf = cf == CW'(CF - 1);
  wire first_px = px == '0;
  wire last_px = px == PW'(PIXELS - 1);

  // ---- running sums -------------------------------------------------------------------------
  logic [AW-1:0] prev;  // the sums of the current channel word so far

  // An input element sign- or zero-extended (or mapped from BIPOLAR) to ACC_BITS.
  function automatic logic [ACC_BITS-1:0] widen(input logic [BITS-1:0] e);
    if (BIPOLAR != 0) widen = e[0] ? ACC_BITS'(1) : '1;
    else if (SIGNED != 0) widen = ACC_BITS'($signed(e));
    else widen = ACC_BITS'(e);
  endfunction

  logic [AW-1:0] total;  // running sums with the current word added
  always_comb begin
    for (int i = 0; i < PE; i++) begin
      total[i*ACC_BITS+:ACC_BITS] = (first_px ? '0 : prev[i*ACC_BITS+:ACC_BITS])
          + widen(s_axis_tdata[i*BITS+:BITS]);
    end
  end

  assign s_axis_tready = !m_axis_tvalid || m_axis_tready;
  wire take = s_axis_tvalid && s_axis_tready;

  if (CF > 1) begin : g_mem
    logic [AW-1:0] sums[CF];
    assign prev = sums[cf];
    always_ff @(posedge clk) begin
      if (take) sums[cf] <= total;
    end
  end else begin : g_reg  // one channel word: a register
    logic [AW-1:0] sums;
    assign prev = sums;
    always_ff @(posedge clk) begin
      if (take) sums <= total;
    end
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      cf <= '0;
      px <= '0;
      m_axis_tvalid <= 1'b0;
    end else begin
      if (take && last_px) m_axis_tvalid <= 1'b1;
      else if (m_axis_tready) m_axis_tvalid <= 1'b0;
      if (take) begin
        cf <= last_cf ? '0 : cf + CW'(1);
        if (last_cf) px <= last_px ? '0 : px + PW'(1);
      end
    end
  end

  always_ff @(posedge clk) begin
    if (take && last_px) m_axis_tdata <= total;
  end
endmodule
