#!/usr/bin/env python3
"""Independent re-implementation of the paper's Table 4 primitives, Table 5
compositions and the SD2 U-Net reconstruction of data/models/sd2.json, used to
produce the expected values in test_flops.c. Run: python3 sd2_reference.py"""
def conv(k,ci,co,h,w): return 2*h*w*k*k*ci*co
def res(k,ci,co,h,w): return conv(k,ci,co,h,w)+conv(k,co,co,h,w)
def tr(dm,dff,da,nl,nc):
    P=2*dm*nl*(2*da+dff); c=2*P+2*nl*nc*da; return nc*c
def mmdit(dm,dff,da,nl,nc):
    P=4*dm*nl*(2*da+dff); c=P+2*nl*nc*da; return nc*c
def crosstr(dq,dk,dff,da,nl,nq,nk):
    P=2*nl*(dq*(da+dff)+dk*da); c=2*P+2*nl*nk*da; return nq*c
def dec(H,W):
    H0,W0=H//8,W//8
    return (conv(3,16,512,H0,W0)+2*res(3,512,512,H0,W0)+tr(512,256,512,1,H0*W0)+3*res(3,512,512,H0,W0)
     +conv(3,512,512,2*H0,2*W0)+3*res(3,512,512,2*H0,2*W0)+conv(3,512,512,4*H0,4*W0)
     +res(3,512,256,4*H0,4*W0)+2*res(3,256,256,4*H0,4*W0)+conv(3,256,256,8*H0,8*W0)
     +res(3,256,128,8*H0,8*W0)+2*res(3,128,128,8*H0,8*W0)+conv(3,128,3,8*H0,8*W0))
print(conv(3,4,320,64,64),res(3,320,640,32,32),tr(768,3072,768,12,77),mmdit(3072,12288,3072,19,4608),crosstr(320,1024,1920,320,1,4096,77),dec(1024,1024))
for H,W in [(256,256),(1024,1024),(768,1344)]:
    n=H*W//256
    print('flux',H,W,mmdit(3072,12288,3072,19,n+512)+tr(3072,12288,3072,38,n+512), tr(768,3072,768,12,77)+tr(4096,10240,4096,24,512)+24*10240*4097, dec(H,W))
    print('sd35',H,W,mmdit(2432,9478,2432,38,n+333), tr(768,3072,768,12,77)+tr(1280,5120,1280,32,77)+tr(4096,10240,4096,24,256)+24*10240*4097)
    print('qwen',H,W,mmdit(3072,12288,3072,60,n+12), tr(3584,18944,3584,28,12)+28*12*2*(2*3584*(512-3584)))

# Independent SD2 U-Net reconstruction (paper convention), per step
def sd2(H,W):
    h0,w0=H//8,W//8
    def g(s): return (h0>>-s if s<0 else h0<<s, w0>>-s if s<0 else w0<<s)
    def R(ci,co,s):
        h,w=g(s); f=res(3,ci,co,h,w)
        if ci!=co: f+=conv(1,ci,co,h,w)
        return f
    def A(c,s):
        h,w=g(s); n=h*w
        return tr(c,0,c,1,n)+crosstr(c,1024,6*c,c,1,n,77)+2*2*n*c*c
    def C(ci,co,s):
        h,w=g(s); return conv(3,ci,co,h,w)
    f=C(4,320,0)+2*320*1280+2*1280*1280+5*2*1280*320+5*2*1280*640+12*2*1280*1280
    f+=2*R(320,320,0)+2*A(320,0)+C(320,320,-1)
    f+=R(320,640,-1)+R(640,640,-1)+2*A(640,-1)+C(640,640,-2)
    f+=R(640,1280,-2)+R(1280,1280,-2)+2*A(1280,-2)+C(1280,1280,-3)
    f+=2*R(1280,1280,-3)
    f+=2*R(1280,1280,-3)+A(1280,-3)
    f+=3*R(2560,1280,-3)+C(1280,1280,-2)
    f+=2*R(2560,1280,-2)+R(1920,1280,-2)+3*A(1280,-2)+C(1280,1280,-1)
    f+=R(1920,640,-1)+R(1280,640,-1)+R(960,640,-1)+3*A(640,-1)+C(640,640,0)
    f+=R(960,320,0)+2*R(640,320,0)+3*A(320,0)
    f+=C(320,4,0)
    return f
for s in (256,512,768,1024): print('sd2',s,sd2(s,s), tr(1024,4096,1024,23,77), dec(s,s) if False else None)
print('sd2 512x768', sd2(512,768))
