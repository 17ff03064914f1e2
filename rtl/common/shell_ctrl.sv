// Control block of the accelerator shell (rtl/common/shell_top.sv.j2): counters and
// status of the shell's streams, TLAST_WORDS and the output's tlast, a write slave for
// the control registers (behind the shell's axil_split) and the read port of the whole
// s_axi_control address space.
//
// Registers (byte addresses, 32 bits; the low two address bits are ignored):
//
//   0x00 MAGIC        RO  32'h51324641
//   0x04 VERSION      RO  1 (of this register map)
//   0x08 STATUS       RO  bit0 busy (FRAMES_IN != FRAMES_OUT), bit1 stalled (sticky: busy
//                         and no handshake on any stream (in, out, other_hs: the weight
//                         streams) for STALL_CYCLES cycles in a row; a write with bit1
//                         set clears it, and it sets again while that stall lasts), bit2
//                         input waiting (tvalid, !tready), bit3 output waiting (tvalid,
//                         !tready)
//   0x0C FRAMES_IN    RO  complete input frames accepted (wraps)
//   0x10 FRAMES_OUT   RO  complete output frames sent (wraps)
//   0x14 TLAST_WORDS  RW  tlast on every TLAST_WORDS-th output word, counted from reset or
//                         from the last write of this register; reset value OUT_WORDS; 0
//                         means 2**32
//   0x18 BUSY_CYCLES  RO  cycles with busy set (wraps)
//   0x1C IN_WORDS     RO  input words per frame
//   0x20 OUT_WORDS    RO  output words per frame
//
// Writes to other addresses of the control window, and to read-only registers, answer
// SLVERR; so do reads of any other address of the port (the layer memories are
// write-only), with rdata 0. Writes honour wstrb. The write slave takes AW and W together
// (as axil_split offers them); one read at a time.
module shell_ctrl #(
    parameter int          ADDR_BITS    = 9,  // of the read port: the whole s_axi_control space
    parameter int          CTRL_BITS    = 8,  // the control window's address bits
    parameter logic [31:0] IN_WORDS     = 1,
    parameter logic [31:0] OUT_WORDS    = 1,
    parameter logic [31:0] STALL_CYCLES = 1024
) (
    input  logic                 clk,
    input  logic                 rst_n,
    input  logic [CTRL_BITS-1:0] s_awaddr,
    input  logic                 s_awvalid,
    output logic                 s_awready,
    input  logic [31:0]          s_wdata,
    input  logic [3:0]           s_wstrb,
    input  logic                 s_wvalid,
    output logic                 s_wready,
    output logic [1:0]           s_bresp,
    output logic                 s_bvalid,
    input  logic                 s_bready,
    input  logic [ADDR_BITS-1:0] s_araddr,
    input  logic                 s_arvalid,
    output logic                 s_arready,
    output logic [31:0]          s_rdata,
    output logic [1:0]           s_rresp,
    output logic                 s_rvalid,
    input  logic                 s_rready,
    // the shell's streams, observed
    input  logic                 in_valid,
    input  logic                 in_ready,
    input  logic                 out_valid,
    input  logic                 out_ready,
    output logic                 out_last,
    input  logic                 other_hs  // a handshake on another stream (weights): progress
);
  localparam logic [31:0] MAGIC = 32'h51324641;
  localparam logic [31:0] VERSION = 32'd1;
  localparam logic [1:0] OKAY = 2'd0, SLVERR = 2'd2;
  localparam int REG_BITS = CTRL_BITS - 2;
  localparam logic [REG_BITS-1:0] R_MAGIC = 0, R_VERSION = 1, R_STATUS = 2, R_FRAMES_IN = 3,
      R_FRAMES_OUT = 4, R_TLAST_WORDS = 5, R_BUSY_CYCLES = 6, R_IN_WORDS = 7, R_OUT_WORDS = 8;

  // --- register writes -----------------------------------------------------------------
  logic bvalid_q;
  logic [1:0] bresp_q;
  wire [REG_BITS-1:0] wreg = s_awaddr[CTRL_BITS-1:2];
  wire write = s_awvalid && s_wvalid && !bvalid_q;
  wire writable = wreg == R_STATUS || wreg == R_TLAST_WORDS;
  assign s_awready = write;
  assign s_wready = write;
  assign s_bvalid = bvalid_q;
  assign s_bresp = bresp_q;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      bvalid_q <= 1'b0;
      bresp_q <= OKAY;
    end else if (write) begin
      bvalid_q <= 1'b1;
      bresp_q <= writable ? OKAY : SLVERR;
    end else if (s_bready) bvalid_q <= 1'b0;
  end

  // --- counters and status -------------------------------------------------------------
  logic [31:0] in_word_q, out_word_q, frames_in_q, frames_out_q, busy_cycles_q, idle_q;
  logic [31:0] tlast_words_q, tlast_count_q, tlast_written;
  logic stalled_q;
  wire in_hs = in_valid && in_ready;
  wire out_hs = out_valid && out_ready;
  wire busy = frames_in_q != frames_out_q;
  wire [31:0] status = {28'd0, out_valid && !out_ready, in_valid && !in_ready, stalled_q, busy};
  assign out_last = tlast_count_q == tlast_words_q - 32'd1;
  always_comb
    for (int b = 0; b < 4; b++)
      tlast_written[8*b +: 8] = s_wstrb[b] ? s_wdata[8*b +: 8] : tlast_words_q[8*b +: 8];

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      {in_word_q, out_word_q, frames_in_q, frames_out_q, busy_cycles_q, idle_q, tlast_count_q} <= '0;
      tlast_words_q <= OUT_WORDS;
      stalled_q <= 1'b0;
    end else begin
      if (in_hs) begin
        in_word_q <= in_word_q == IN_WORDS - 32'd1 ? 32'd0 : in_word_q + 32'd1;
        if (in_word_q == IN_WORDS - 32'd1) frames_in_q <= frames_in_q + 32'd1;
      end
      if (out_hs) begin
        out_word_q <= out_word_q == OUT_WORDS - 32'd1 ? 32'd0 : out_word_q + 32'd1;
        if (out_word_q == OUT_WORDS - 32'd1) frames_out_q <= frames_out_q + 32'd1;
        tlast_count_q <= out_last ? 32'd0 : tlast_count_q + 32'd1;
      end
      if (busy) busy_cycles_q <= busy_cycles_q + 32'd1;
      if (!busy || in_hs || out_hs || other_hs) idle_q <= 32'd0;
      else if (idle_q != STALL_CYCLES) idle_q <= idle_q + 32'd1;
      if (write && wreg == R_STATUS && s_wstrb[0] && s_wdata[1]) stalled_q <= 1'b0;
      if (idle_q == STALL_CYCLES) stalled_q <= 1'b1;
      if (write && wreg == R_TLAST_WORDS) begin
        tlast_words_q <= tlast_written;
        tlast_count_q <= 32'd0;
      end
    end
  end

  // --- reads ---------------------------------------------------------------------------
  logic rvalid_q;
  logic [31:0] rdata_q;
  logic [1:0] rresp_q;
  logic [31:0] rd;
  logic rd_ok;
  always_comb begin
    rd_ok = (32'(s_araddr) >> CTRL_BITS) == 32'd0;
    case (s_araddr[CTRL_BITS-1:2])
      R_MAGIC: rd = MAGIC;
      R_VERSION: rd = VERSION;
      R_STATUS: rd = status;
      R_FRAMES_IN: rd = frames_in_q;
      R_FRAMES_OUT: rd = frames_out_q;
      R_TLAST_WORDS: rd = tlast_words_q;
      R_BUSY_CYCLES: rd = busy_cycles_q;
      R_IN_WORDS: rd = IN_WORDS;
      R_OUT_WORDS: rd = OUT_WORDS;
      default: begin
        rd = 32'd0;
        rd_ok = 1'b0;
      end
    endcase
    if (!rd_ok) rd = 32'd0;
  end
  assign s_arready = !rvalid_q;
  assign s_rvalid = rvalid_q;
  assign s_rdata = rdata_q;
  assign s_rresp = rresp_q;
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      rvalid_q <= 1'b0;
      rdata_q <= 32'd0;
      rresp_q <= OKAY;
    end else if (s_arvalid && s_arready) begin
      rvalid_q <= 1'b1;
      rdata_q <= rd;
      rresp_q <= rd_ok ? OKAY : SLVERR;
    end else if (s_rready) rvalid_q <= 1'b0;
  end
  wire unused = &{1'b0, s_awaddr[1:0], s_araddr[1:0]};
endmodule
