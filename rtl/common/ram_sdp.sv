// The memory primitive of rtl/: a ROM (WRITEABLE = 0) or a simple dual-port RAM (one write
// port, one synchronous read port, one clock), optionally initialized from a $readmemh file
// (INIT_FILE: one hex word per line, no address markers). Every weight, threshold and FIFO
// memory is one of these; ram_sdp_axil.sv puts the write port behind an AXI4-lite slave.
//
// Read: rd_data <= mem[rd_addr] in every cycle with rd_en; a write and a read of the same
// word in the same cycle read the old word. Write (WRITEABLE = 1): mem[wr_addr] <= wr_data in
// every cycle with wr_en. With WRITEABLE = 0, wr_* are ignored and the memory stays a ROM for
// synthesis whatever they are tied to (the write process exists only when writable). A
// one-word memory (DEPTH = 1) ignores the addresses.
//
// RAM_STYLE selects the primitive: "auto" leaves it to the synthesis tool, "block" (BRAM),
// "distributed" (LUTRAM; a ROM becomes LUT logic) or "ultra" (URAM, UltraScale+ only). URAM
// has no initial contents, so "ultra" ignores INIT_FILE: its words are undefined until
// written. Synthesis attributes must be literal constants, hence one generate branch per
// style, each declaring the array and giving it the same ports (RAM_SDP_PORTS, a macro
// local to this file). rom_style is set too, the attribute Vivado reads for ROMs; Yosys
// reads ram_style first.
//
// An empty INIT_FILE leaves the memory uninitialized: the default, because Yosys elaborates
// every module with its default parameters while reading it. A relative INIT_FILE resolves
// against the simulator's working directory (Verilator, at run time) or Yosys' working
// directory, then the directory of this source file: a build that wants bare file names
// places a copy of this file next to the .hex files (rom_with_init_files in
// rtl/mvau/defs.bzl).
module ram_sdp #(
    parameter int WIDTH     = 8,
    parameter int DEPTH     = 512,
    parameter RAM_STYLE = "auto",
    parameter INIT_FILE = "",
    parameter int WRITEABLE = 1,
    localparam int AW       = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  logic             clk,
    input  logic             wr_en,
    input  logic [   AW-1:0] wr_addr,
    input  logic [WIDTH-1:0] wr_data,
    input  logic             rd_en,
    input  logic [   AW-1:0] rd_addr,
    output logic [WIDTH-1:0] rd_data
);
  // The ports of the array `mem`, the same in every style branch.
`define RAM_SDP_PORTS \
      if (HAS_FILE) begin : g_init \
        initial $readmemh(INIT_FILE, mem); \
      end \
      always_ff @(posedge clk) if (rd_en) rd_data <= mem[(DEPTH > 1) ? rd_addr : '0]; \
      if (WRITEABLE != 0) begin : g_write \
        always_ff @(posedge clk) if (wr_en) mem[(DEPTH > 1) ? wr_addr : '0] <= wr_data; \
      end

  /* verilator lint_off WIDTH */
  /* verilator lint_off UNDRIVEN */  // a ROM without INIT_FILE: undefined words
  // (String parameters are untyped for Yosys; their width follows the string.)
  localparam bit ULTRA = RAM_STYLE == "ultra";
  localparam bit HAS_FILE = INIT_FILE != "" && !ULTRA;
  generate
    if (RAM_STYLE == "block") begin : g_block
      (* ram_style = "block", rom_style = "block" *) logic [WIDTH-1:0] mem[DEPTH];
      `RAM_SDP_PORTS
    end else if (RAM_STYLE == "distributed" && WRITEABLE != 0) begin : g_distributed_ram
      (* ram_style = "distributed" *) logic [WIDTH-1:0] mem[DEPTH];
      `RAM_SDP_PORTS
    end else if (RAM_STYLE == "distributed") begin : g_distributed
`ifdef YOSYS
      // Yosys 0.23 maps no ROM to LUTRAM (its LUTRAM libraries "prune_rom") and fails on
      // "distributed"; a ROM in LUT logic is what a distributed ROM is anyway.
      (* rom_style = "logic" *) logic [WIDTH-1:0] mem[DEPTH];
`else
      (* ram_style = "distributed", rom_style = "distributed" *) logic [WIDTH-1:0] mem[DEPTH];
`endif
      `RAM_SDP_PORTS
    end else if (ULTRA) begin : g_ultra
      (* ram_style = "ultra", rom_style = "ultra" *) logic [WIDTH-1:0] mem[DEPTH];
      `RAM_SDP_PORTS
    end else if (RAM_STYLE == "auto") begin : g_auto
      logic [WIDTH-1:0] mem[DEPTH];
      `RAM_SDP_PORTS
    end else begin : g_bad_style
      $error("ram_sdp: RAM_STYLE must be auto, block, distributed or ultra");
    end
  endgenerate
  /* verilator lint_on UNDRIVEN */
  /* verilator lint_on WIDTH */
`undef RAM_SDP_PORTS

  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_ok = ^{wr_en, wr_addr, wr_data, rd_addr};  // unread for a ROM / one word
  /* verilator lint_on UNUSEDSIGNAL */
endmodule
