"""Where the noise-aware verdict stops being right: pairs outside the accuracy harness's design.

Each line makes 20 pairs of one kind (fields from the harness's micrographs, sensor model noise)
and prints how many got the right verdict, with the first reasons when it went wrong.

usage: .venv/bin/python bench/bench_limits.py
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import numpy as np, cv2
from scopecheck.capture.sensor import SensorModel, expose, view, mjpg
from scopecheck.capture.pairs import _scene, _textured_origin, SCENES
from scopecheck.compare.pair import compare_arrays, SAME_VERDICTS
rng=np.random.default_rng(9)
def trial(name, make, n=20, want_same=True):
    ok=0; reasons=[]
    for i in range(n):
        sc_name=SCENES[i%len(SCENES)]; sc=_scene(sc_name)
        o=_textured_origin(rng,sc,(320,240),144)
        a,b=make(sc,o)
        c=compare_arrays(a,b); same=c.verdict in SAME_VERDICTS
        ok+= (same==want_same)
        if same!=want_same: reasons.append((sc_name, c.reason[:90]))
    print(f"{name:38s} {ok}/{n} right", reasons[:2])
F=lambda sc,o,**k: view(sc,origin=o,size=(320,240),**k)
trial("repeat, shift 3.5 px", lambda sc,o: (expose(F(sc,o),rng=rng), expose(F(sc,(o[0]+3.5,o[1]-0.5)),rng=rng)))
trial("repeat, exposure +12 %", lambda sc,o: (expose(F(sc,o),rng=rng), expose(F(sc,o),rng=rng,exposure=1.12)))
trial("repeat, exposure -20 %", lambda sc,o: (expose(F(sc,o),rng=rng), expose(F(sc,o),rng=rng,exposure=0.8)))
trial("repeat, MJPG q40", lambda sc,o: (mjpg(expose(F(sc,o),rng=rng),40), mjpg(expose(F(sc,o),rng=rng),40)))
trial("repeat, 4x noise (high gain)", lambda sc,o: (expose(F(sc,o),rng=rng,model=SensorModel(full_well=250,read_noise=4)), expose(F(sc,o),rng=rng,model=SensorModel(full_well=250,read_noise=4))))
trial("repeat, gamma 1.0 vs 1.1", lambda sc,o: (expose(F(sc,o),rng=rng), expose(F(sc,o)**1.1,rng=rng)))
trial("focus drift (blur 0.6 -> 1.2)", lambda sc,o: (expose(F(sc,o),rng=rng), expose(F(sc,o,blur=1.2),rng=rng)), want_same=True)
def rot(sc,o,deg):
    f=F(sc,o); M=cv2.getRotationMatrix2D((160,120),deg,1.0); return cv2.warpAffine(f,M,(320,240),borderMode=cv2.BORDER_REFLECT)
trial("rotation 0.5 deg", lambda sc,o: (expose(F(sc,o),rng=rng), expose(rot(sc,o,0.5),rng=rng)))
def faint(sc,o,k):
    f=F(sc,o).copy(); m=np.zeros((240,320),np.float32); cv2.circle(m,(200,100),14,1.0,-1); return f*(1-k*m[...,None])
trial("local change 1.9 %, 10 % darker", lambda sc,o: (expose(F(sc,o),rng=rng), expose(faint(sc,o,0.10),rng=rng)), want_same=False)
trial("local change 1.9 %, 5 % darker", lambda sc,o: (expose(F(sc,o),rng=rng), expose(faint(sc,o,0.05),rng=rng)), want_same=False)
def tiny(sc,o):
    f=F(sc,o).copy(); cv2.circle(f,(200,100),4,(0.05,0.05,0.05),-1); return f
trial("tiny particle 0.07 % (r=4 px)", lambda sc,o: (expose(F(sc,o),rng=rng), expose(tiny(sc,o),rng=rng)), want_same=False)
trial("neighbour field 3 % move (10 px)", lambda sc,o: (expose(F(sc,o),rng=rng), expose(F(sc,(o[0]+10,o[1])),rng=rng)), want_same=False)
