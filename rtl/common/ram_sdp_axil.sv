// ram_sdp whose write port is the AXI4-lite slave s_axilite_* (axil_mem_write.sv: 32-bit
// data, address map, write order, responses), for the runtime-writable weight and
// threshold memories; or, with WRITEABLE = 0, the same memory as a ROM with the slave
// tied off: s_axilite_* inputs ignored, outputs 0 (no write or read is ever accepted).
//
// The read port, RAM_STYLE and INIT_FILE are those of ram_sdp. `written` is high in the
// cycle a word is written into the memory (the cycle its write response is first offered);
// it never rises with WRITEABLE = 0. AXIL_ADDR_BITS = clog2(DEPTH * STRIDE * 4), STRIDE =
// ceil(WIDTH / 32) rounded up to a power of two (axil_mem_write's ADDR_BITS).
module ram_sdp_axil #(
    parameter int WIDTH          = 8,
    parameter int DEPTH          = 16,
    parameter RAM_STYLE = "auto",
    parameter INIT_FILE = "",
    parameter int WRITEABLE      = 0,
    localparam int AW            = (DEPTH > 1) ? $clog2(DEPTH) : 1,
    localparam int AXIL_ADDR_BITS = $clog2(DEPTH * (2 ** $clog2((WIDTH + 31) / 32)) * 4)
) (
    input  logic                      clk,
    input  logic                      rst_n,
    input  logic                      rd_en,
    input  logic [            AW-1:0] rd_addr,
    output logic [         WIDTH-1:0] rd_data,
    output logic                      written,
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
  logic wr_en;
  logic [AW-1:0] wr_addr;
  logic [WIDTH-1:0] wr_data;
  assign written = wr_en;

  ram_sdp #(
      .WIDTH(WIDTH),
      .DEPTH(DEPTH),
      .RAM_STYLE(RAM_STYLE),
      .INIT_FILE(INIT_FILE),
      .WRITEABLE(WRITEABLE)
  ) u_mem (
      .clk(clk),
      .wr_en(wr_en),
      .wr_addr(wr_addr),
      .wr_data(wr_data),
      .rd_en(rd_en),
      .rd_addr(rd_addr),
      .rd_data(rd_data)
  );

  generate
    if (WRITEABLE != 0) begin : g_axilite
      axil_mem_write #(
          .WIDTH(WIDTH),
          .DEPTH(DEPTH)
      ) u_axilite (
          .clk(clk),
          .rst_n(rst_n),
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
          .s_axilite_rready(s_axilite_rready),
          .wr_en(wr_en),
          .wr_addr(wr_addr),
          .wr_data(wr_data)
      );
    end else begin : g_rom
      assign {wr_en, wr_addr, wr_data} = '0;
      assign {s_axilite_awready, s_axilite_wready, s_axilite_bvalid, s_axilite_arready, s_axilite_rvalid} = '0;
      assign {s_axilite_bresp, s_axilite_rdata, s_axilite_rresp} = '0;
      /* verilator lint_off UNUSEDSIGNAL */
      wire unused_axilite = ^{s_axilite_awaddr, s_axilite_awvalid, s_axilite_wdata, s_axilite_wstrb,
                              s_axilite_wvalid, s_axilite_bready, s_axilite_araddr, s_axilite_arvalid,
                              s_axilite_rready, rst_n};
      /* verilator lint_on UNUSEDSIGNAL */
    end
  endgenerate
endmodule
