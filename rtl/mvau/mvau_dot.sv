// One PE's dot product over one SIMD word: dot = sum_s x[s] * w[s], exact, as a
// DOT_BITS-wide two's-complement value (combinational; the caller registers it).
//
// Element encodings: x[s] = x[s*IN_BITS +: IN_BITS], w[s] = w[s*W_BITS +: W_BITS];
// signed values two's complement, unsigned plain, bipolar 1 bit (1 = +1, 0 = -1).
// Products by datatype:
//   bipolar x bipolar  XNOR: dot = 2 * popcount(~(x ^ w)) - SIMD
//   bipolar w          +x or -x;  bipolar x: +w or -w
//   integer x integer  LUT logic (radix-4 Booth on the narrower operand) when that operand
//                      has at most LUT_MUL_MAX_BITS bits: Yosys maps every '*' whose
//                      product exceeds 8 bits to a DSP, wasteful for 4x8 products. Else
//                      the '*' operator (DSP).
// Each lane's product is exact in its own width (P_BITS); the lane sum is DOT_BITS wide.
// Values are sign-extended explicitly before any arithmetic, so sums are plain modular
// arithmetic with no signed/unsigned mixing. DOT_BITS may be narrower than the exact
// width: the caller accumulates modulo 2^ACC_BITS, exact whenever the final sum fits.
module mvau_dot #(
    parameter int SIMD             = 1,
    parameter int IN_BITS          = 1,
    parameter int IN_SIGNED        = 0,
    parameter int IN_BIPOLAR       = 0,
    parameter int W_BITS           = 1,
    parameter int W_SIGNED         = 0,
    parameter int W_BIPOLAR        = 0,
    parameter int DOT_BITS         = 8,
    parameter int LUT_MUL_MAX_BITS = 4
) (
    input  logic [SIMD*IN_BITS-1:0] x,
    input  logic [ SIMD*W_BITS-1:0] w,
    output logic [    DOT_BITS-1:0] dot
);
  localparam bit XNOR = IN_BIPOLAR != 0 && W_BIPOLAR != 0;
  // Operands of the integer product: A (the narrower, Booth-recoded when LUT_MUL) and B.
  localparam bit A_IS_W = W_BITS <= IN_BITS;
  localparam int A_BITS = A_IS_W ? W_BITS : IN_BITS;
  localparam bit A_SIGNED = A_IS_W ? (W_SIGNED != 0) : (IN_SIGNED != 0);
  localparam bit LUT_MUL = A_BITS <= LUT_MUL_MAX_BITS;

  generate
    if (XNOR) begin : g_xnor
      localparam int PCW = $clog2(SIMD + 1);
      logic [PCW-1:0] pc;
      wire [SIMD-1:0] agree = ~(x ^ w);  // 1 where the product is +1 (own width: a cast
                                         // around ~ would invert the extension bits too)
      always_comb begin
        pc = '0;
        for (int s = 0; s < SIMD; s++) pc = pc + PCW'(agree[s]);
      end
      // 2 * pc - SIMD, modulo 2^DOT_BITS.
      wire [DOT_BITS-1:0] pc_ext = DOT_BITS'(pc);
      assign dot = (pc_ext << 1) - DOT_BITS'(SIMD);
    end else begin : g_int
      // One exact product per lane in P_BITS, then the lane sum in DOT_BITS. (Summing
      // narrow products is much cheaper after Yosys than one sum of DOT_BITS-wide
      // partial products: the sign extensions are not all compressed.)
      localparam int P_BITS = (W_BIPOLAR != 0) ? IN_BITS + 1 :
                              (IN_BIPOLAR != 0) ? W_BITS + 1 : IN_BITS + W_BITS + 1;
      logic [SIMD*P_BITS-1:0] prods;
      for (genvar s = 0; s < SIMD; s++) begin : g_lane
        wire [IN_BITS-1:0] xs = x[s*IN_BITS+:IN_BITS];
        wire [W_BITS-1:0] ws = w[s*W_BITS+:W_BITS];
        logic signed [P_BITS-1:0] p;
        if (W_BIPOLAR != 0 || IN_BIPOLAR != 0) begin : g_sign
          // One operand is bipolar: the other (V, with its sign or zero bit) or its negation.
          localparam int V_BITS = (W_BIPOLAR != 0) ? IN_BITS : W_BITS;
          localparam bit V_SIGNED = (W_BIPOLAR != 0) ? (IN_SIGNED != 0) : (W_SIGNED != 0);
          logic [V_BITS-1:0] v;
          logic sgn;
          if (W_BIPOLAR != 0) begin : g_w_sign
            assign v   = xs;
            assign sgn = ws[0];
          end else begin : g_x_sign
            assign v   = ws;
            assign sgn = xs[0];
          end
          wire signed [P_BITS-1:0] v_s = {V_SIGNED && v[V_BITS-1], v};
          assign p = sgn ? v_s : -v_s;
        end else if (LUT_MUL) begin : g_booth
          // A * B with A radix-4 Booth recoded: ND digits d_i = -2 a[2i+1] + a[2i] + a[2i-1]
          // in {-2..2} (a[-1] = 0; A sign- or zero-extended), each selecting 0, +-B or
          // +-2B: half the partial products of bit-by-bit shift-and-add.
          localparam int B_BITS = A_IS_W ? IN_BITS : W_BITS;
          localparam bit B_SIGNED = A_IS_W ? (IN_SIGNED != 0) : (W_SIGNED != 0);
          localparam int AS = A_BITS + (A_SIGNED ? 0 : 1);  // A's width as a signed value
          localparam int ND = (AS + 1) / 2;
          logic [A_BITS-1:0] a;
          logic [B_BITS-1:0] b;
          if (A_IS_W) begin : g_a_is_w
            assign a = ws;
            assign b = xs;
          end else begin : g_a_is_x
            assign a = xs;
            assign b = ws;
          end
          wire signed [P_BITS-1:0] b_e = P_BITS'($signed({B_SIGNED && b[B_BITS-1], b}));
          logic [2*ND:0] ae;  // ae[k + 1] = A bit k (extended), ae[0] = 0
          logic [P_BITS-1:0] mag;
          logic neg;
          always_comb begin
            ae = '0;
            for (int k = 0; k < 2 * ND; k++) ae[k+1] = (k < A_BITS) ? a[k] : (A_SIGNED && a[A_BITS-1]);
            p = '0;
            for (int i = 0; i < ND; i++) begin
              neg = ae[2*i+2] && !(ae[2*i+1] && ae[2*i]);
              mag = (ae[2*i+1] ^ ae[2*i]) ? (b_e << (2 * i)) :
                    (ae[2*i+2] != ae[2*i+1]) ? (b_e << (2 * i + 1)) : '0;
              p = p + (mag ^ {P_BITS{neg}}) + P_BITS'(neg);  // -m = ~m + 1
            end
          end
        end else begin : g_dsp_mul
          wire signed [IN_BITS:0] x_s = {IN_SIGNED != 0 && xs[IN_BITS-1], xs};
          wire signed [W_BITS:0] w_s = {W_SIGNED != 0 && ws[W_BITS-1], ws};
          assign p = P_BITS'(x_s) * P_BITS'(w_s);  // exact: the product fits P_BITS
        end
        assign prods[s*P_BITS+:P_BITS] = p;
      end

      logic signed [DOT_BITS-1:0] sum;
      always_comb begin
        sum = '0;
        for (int s = 0; s < SIMD; s++) sum = sum + DOT_BITS'($signed(prods[s*P_BITS+:P_BITS]));
      end
      assign dot = sum;
    end
  endgenerate
endmodule
