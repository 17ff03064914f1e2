// Weight streamer for MEM_MODE "internal_decoupled": owns the weight memory and plays it as
// an endless AXI stream, one memory word per beat in address order (0 .. DEPTH-1, then
// again from 0), at one word per cycle. Reads are issued only when the word has a slot:
// the words in the output FIFO plus the read in flight stay below its depth, so the memory
// needs no stall (a credit scheme, as in mvau_core). The FIFO (rtl/common axis_fifo_srl,
// 3 words) also registers m_axis, so nothing on m_axis is combinational from m_axis_tready.
//
// The memory is rtl/common/ram_sdp_axil.sv. RUNTIME_WRITEABLE = 1: it gets a write port
// driven by the AXI4-lite slave s_axilite_* (rtl/common/axil_mem_write.sv: address map,
// write order, responses; AXIL_ADDR_BITS = its ADDR_BITS for this memory). Every committed word write flushes the
// words already read ahead (FIFO and read in flight) and rewinds the read address to the
// oldest of them, so the stream keeps its order and every word leaving after the write
// comes from the memory as written: weights written while the layer is idle are what
// the next vector uses. Writes while the layer streams are allowed, but the vector in
// progress may use old words for some tiles and new ones for others. A flush withdraws
// m_axis_tvalid without a handshake (the consumer, mvau_core, relies on the order only)
// and leaves a 3-cycle gap in the stream; without writes the stream and its timing are
// those of the ROM version. RAM_STYLE "ultra" has no initial contents (INIT_FILE is
// ignored): every word must be written before the layer runs.
// RUNTIME_WRITEABLE = 0: a ROM; s_axilite_* are ignored, their outputs held at 0 (a
// write or read is never accepted).
module mvau_weight_streamer #(
    parameter int WIDTH             = 8,
    parameter int DEPTH             = 16,
    parameter INIT_FILE = "",
    parameter RAM_STYLE = "auto",
    parameter int RUNTIME_WRITEABLE = 0,
    localparam int AXIL_ADDR_BITS   = $clog2(DEPTH * (2 ** $clog2((WIDTH + 31) / 32)) * 4)
) (
    input  logic                      clk,
    input  logic                      rst_n,
    output logic [         WIDTH-1:0] m_axis_tdata,
    output logic                      m_axis_tvalid,
    input  logic                      m_axis_tready,
    input  logic [AXIL_ADDR_BITS-1:0] s_axilite_awaddr,
    input  logic                      s_axilite_awvalid,
    output logic                      s_axilite_awready,
    input  logic [              31:0] s_axilite_wdata,
    input  logic [               3:0] s_axilite_wstrb,
    input  logic                      s_axilite_wvalid,
    output logic                      s_axilite_wready,
    output logic [               1:0] s_axilite_bresp,
    output logic                      s_axilite_bvalid,
    input  logic                      s_axilite_bready,
    input  logic [AXIL_ADDR_BITS-1:0] s_axilite_araddr,
    input  logic                      s_axilite_arvalid,
    output logic                      s_axilite_arready,
    output logic [              31:0] s_axilite_rdata,
    output logic [               1:0] s_axilite_rresp,
    output logic                      s_axilite_rvalid,
    input  logic                      s_axilite_rready
);
  localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
  localparam int FIFO_DEPTH = 3;  // the fewest that sustain one word per cycle

  logic [AW-1:0] addr;
  logic rd_valid;  // a word leaves the memory this cycle
  logic [WIDTH-1:0] rd_data;
  logic [1:0] fifo_count;
  /* verilator lint_off UNUSEDSIGNAL */
  logic fifo_ready;  // always high when pushing: reads are issued only with a free slot
  /* verilator lint_on UNUSEDSIGNAL */
  logic run_q;

  // A word written into the memory (RUNTIME_WRITEABLE) flushes the words read ahead.
  logic wr_en;
  wire flush = (RUNTIME_WRITEABLE != 0) && wr_en;

  // Address of the oldest word not yet taken from m_axis: where a flush rewinds to.
  logic [AW-1:0] head;
  wire pop = m_axis_tvalid && m_axis_tready;
  wire [AW-1:0] head_next = (head == AW'(DEPTH - 1)) ? '0 : head + 1'b1;

  wire rd_en = run_q && ({1'b0, fifo_count} + {2'b0, rd_valid} < 3'(FIFO_DEPTH));

  always_ff @(posedge clk) begin
    if (!rst_n) begin
      run_q <= 1'b0;
      addr <= '0;
      head <= '0;
      rd_valid <= 1'b0;
    end else begin
      run_q <= 1'b1;
      rd_valid <= rd_en && !flush;
      if (flush) addr <= pop ? head_next : head;
      else if (rd_en) addr <= (addr == AW'(DEPTH - 1)) ? '0 : addr + 1'b1;
      if (pop) head <= head_next;
    end
  end

  ram_sdp_axil #(
      .WIDTH(WIDTH),
      .DEPTH(DEPTH),
      .RAM_STYLE(RAM_STYLE),
      .INIT_FILE(INIT_FILE),
      .WRITEABLE(RUNTIME_WRITEABLE)
  ) u_mem (
      .clk(clk),
      .rst_n(rst_n),
      .rd_en(rd_en),
      .rd_addr(addr),
      .rd_data(rd_data),
      .written(wr_en),
      .s_axilite_awaddr(s_axilite_awaddr),
      .s_axilite_awvalid(s_axilite_awvalid),
      .s_axilite_awready(s_axilite_awready),
      .s_axilite_wdata(s_axilite_wdata),
      .s_axilite_wstrb(s_axilite_wstrb),
      .s_axilite_wvalid(s_axilite_wvalid),
      .s_axilite_wready(s_axilite_wready),
      .s_axilite_bresp(s_axilite_bresp),
      .s_axilite_bvalid(s_axilite_bvalid),
      .s_axilite_bready(s_axilite_bready),
      .s_axilite_araddr(s_axilite_araddr),
      .s_axilite_arvalid(s_axilite_arvalid),
      .s_axilite_arready(s_axilite_arready),
      .s_axilite_rdata(s_axilite_rdata),
      .s_axilite_rresp(s_axilite_rresp),
      .s_axilite_rvalid(s_axilite_rvalid),
      .s_axilite_rready(s_axilite_rready)
  );

  axis_fifo_srl #(
      .WIDTH(WIDTH),
      .DEPTH(FIFO_DEPTH)
  ) u_fifo (
      .clk(clk),
      .rst_n(rst_n && !flush),
      .s_axis_tdata(rd_data),
      .s_axis_tvalid(rd_valid),
      .s_axis_tready(fifo_ready),
      .m_axis_tdata(m_axis_tdata),
      .m_axis_tvalid(m_axis_tvalid),
      .m_axis_tready(m_axis_tready),
      .count(fifo_count)
  );
endmodule
