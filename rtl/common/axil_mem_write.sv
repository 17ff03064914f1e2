// AXI4-lite slave (32-bit data) that writes a memory of DEPTH words of WIDTH bits, 32 bits
// at a time: the write side of the runtime-writable weight and threshold memories.
//
// Address map (byte addresses; qnn2fpga.packing.axilite_writes produces the same):
//   CHUNKS = ceil(WIDTH / 32) chunks per memory word; chunk j holds bits [32*j +: 32] of
//            the word (bits of the top chunk beyond WIDTH are dropped);
//   STRIDE = CHUNKS rounded up to a power of two;
//   chunk j of word i is at byte address (i * STRIDE + j) * 4   (i < DEPTH, j < CHUNKS),
//   so the address bits [1:0] are ignored, bits [2 +: log2(STRIDE)] are j, the rest i;
//   ADDR_BITS = clog2(DEPTH * STRIDE * 4) (at least 2: one word of one chunk).
// Chunks 0 .. CHUNKS-2 go to one staging register shared by all words; writing chunk
// CHUNKS-1 (the top one) commits the staged chunks plus this one to word i in a single
// wr_en pulse. A writer therefore writes the chunks of a word low to high, top chunk last;
// the word index of the lower chunks is not checked, only the top chunk's address says
// where the word goes. With CHUNKS = 1 every write is a word write.
// wstrb is ignored: every write is a full 32-bit write.
//
// Responses: OKAY, or SLVERR for a word index >= DEPTH or a chunk index >= CHUNKS (the
// holes of the map when DEPTH or CHUNKS are not powers of two); a refused write changes
// neither the memory nor the staging register. Reads are not supported: every read is
// answered with SLVERR and rdata 0 (so a driver that reads never hangs).
//
// Handshakes: AW and W are taken independently, in any order or in the same cycle, one
// of each at a time; when both are held and no response is waiting, the write executes
// (the cycle after the later of the two handshakes) and bvalid rises with wr_en, so the
// memory holds the word at the end of the cycle the response is first offered. The
// next write's AW and W may be taken while the response waits for bready.
// Nothing is accepted during reset (rst_n low, synchronous, like the rest of rtl/).
module axil_mem_write #(
    parameter int WIDTH     = 32,
    parameter int DEPTH     = 16,
    localparam int CHUNKS    = (WIDTH + 31) / 32,
    localparam int STRIDE    = 2 ** $clog2(CHUNKS),
    localparam int ADDR_BITS = $clog2(DEPTH * STRIDE * 4),
    localparam int AW        = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  logic                 clk,
    input  logic                 rst_n,
    input  logic [ADDR_BITS-1:0] s_axilite_awaddr,
    input  logic                 s_axilite_awvalid,
    output logic                 s_axilite_awready,
    input  logic [         31:0] s_axilite_wdata,
    input  logic [          3:0] s_axilite_wstrb,
    input  logic                 s_axilite_wvalid,
    output logic                 s_axilite_wready,
    output logic [          1:0] s_axilite_bresp,
    output logic                 s_axilite_bvalid,
    input  logic                 s_axilite_bready,
    input  logic [ADDR_BITS-1:0] s_axilite_araddr,
    input  logic                 s_axilite_arvalid,
    output logic                 s_axilite_arready,
    output logic [         31:0] s_axilite_rdata,
    output logic [          1:0] s_axilite_rresp,
    output logic                 s_axilite_rvalid,
    input  logic                 s_axilite_rready,
    output logic                 wr_en,
    output logic [       AW-1:0] wr_addr,
    output logic [    WIDTH-1:0] wr_data
);
  localparam logic [1:0] OKAY = 2'b00;
  localparam logic [1:0] SLVERR = 2'b10;
  localparam int SB = $clog2(STRIDE);  // chunk-index bits of the address

  generate
    if (WIDTH < 1 || DEPTH < 1) begin : g_bad_shape
      $error("axil_mem_write: WIDTH and DEPTH must be positive");
    end
    if (ADDR_BITS > 32) begin : g_bad_addr
      $error("axil_mem_write: the memory needs more than a 32-bit address");
    end
  endgenerate

  logic run_q;  // low in reset: no handshakes then
  logic aw_q, w_q;  // an address / a data word is held
  logic [ADDR_BITS-1:0] awaddr_q;
  logic [31:0] wdata_q;

  assign s_axilite_awready = run_q && !aw_q;
  assign s_axilite_wready  = run_q && !w_q;
  wire exec = aw_q && w_q && !s_axilite_bvalid;

  // Address decode, on a zero-extended copy of the address.
  wire [31:0] addr = 32'(awaddr_q);
  wire [31:0] word_i = addr >> (2 + SB);
  wire [31:0] chunk_i = (addr >> 2) & 32'(STRIDE - 1);
  wire in_range = (word_i < 32'(DEPTH)) && (chunk_i < 32'(CHUNKS));
  wire top = chunk_i == 32'(CHUNKS - 1);

  // The staged chunks with the incoming top chunk: the word the top chunk commits. Its
  // top chunk's place in `stage` is never written; bits beyond WIDTH are dropped.
  logic [CHUNKS*32-1:0] stage;
  /* verilator lint_off UNUSEDSIGNAL */
  logic [CHUNKS*32-1:0] word_c;
  /* verilator lint_on UNUSEDSIGNAL */
  always_comb begin
    word_c = stage;
    word_c[32*(CHUNKS-1)+:32] = wdata_q;
  end

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run_q <= 1'b0;
      aw_q <= 1'b0;
      w_q <= 1'b0;
      s_axilite_bvalid <= 1'b0;
      wr_en <= 1'b0;
    end else begin
      run_q <= 1'b1;
      wr_en <= exec && in_range && top;
      if (s_axilite_awvalid && s_axilite_awready) aw_q <= 1'b1;
      else if (exec) aw_q <= 1'b0;
      if (s_axilite_wvalid && s_axilite_wready) w_q <= 1'b1;
      else if (exec) w_q <= 1'b0;
      if (exec) s_axilite_bvalid <= 1'b1;
      else if (s_axilite_bready) s_axilite_bvalid <= 1'b0;
    end
    if (s_axilite_awvalid && s_axilite_awready) awaddr_q <= s_axilite_awaddr;
    if (s_axilite_wvalid && s_axilite_wready) wdata_q <= s_axilite_wdata;
    if (exec) begin
      s_axilite_bresp <= in_range ? OKAY : SLVERR;
      wr_addr <= AW'(word_i);
      wr_data <= word_c[WIDTH-1:0];
      for (int j = 0; j < CHUNKS - 1; j++) begin
        if (in_range && chunk_i == 32'(j)) stage[32*j+:32] <= wdata_q;
      end
    end
  end

  // --- reads: refused, with a correct handshake -------------------------------------------
  assign s_axilite_arready = run_q && !s_axilite_rvalid;
  assign s_axilite_rdata   = '0;
  assign s_axilite_rresp   = SLVERR;
  always_ff @(posedge clk) begin
    if (!rst_n) s_axilite_rvalid <= 1'b0;
    else if (s_axilite_arvalid && s_axilite_arready) s_axilite_rvalid <= 1'b1;
    else if (s_axilite_rready) s_axilite_rvalid <= 1'b0;
  end

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused = ^{s_axilite_wstrb, s_axilite_araddr};  // full-word writes; no read data
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
