# tools/studies scripts that docs quote figures from: each runs small here so it cannot rot.
# Python: Debian's /usr/bin/python3 (standard library only).
set(ST_OUT ${CMAKE_CURRENT_BINARY_DIR}/studies)
file(MAKE_DIRECTORY ${ST_OUT})

# liveness_study.py (docs/zk-model.md, FLE): 80 schedules of up to 8 faults of up to 60 s on the
# three-peer ensemble. Every run must come back (none still out at the end of its 300 s run, 190 s
# or more after its last fault), half within 10 s, and the slowest within maxNotificationInterval
# (60 s) + a stale burst's restart of it + the election: 180 s.
add_test(NAME studies_liveness
         COMMAND sh -c "/usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/studies/liveness_study.py --zksim $<TARGET_FILE:zksim> --scenario ${CMAKE_SOURCE_DIR}/scenarios/fuzz/zk3.json --runs 80 --json ${ST_OUT}/liveness.json && /usr/bin/python3 -c \"import json,sys; f=json.load(open(sys.argv[1]))['scenarios']; (v,)=f.values(); print(v); assert v['stuck']==0 and v['recovered']==80, v; assert v['p50_s']<10 and v['max_s']<180, v\" ${ST_OUT}/liveness.json")
# A run length that ends before the faults can heal is refused with the flag named.
add_test(NAME studies_liveness_bad_duration
         COMMAND sh -c "/usr/bin/python3 ${CMAKE_SOURCE_DIR}/tools/studies/liveness_study.py --zksim $<TARGET_FILE:zksim> --duration 90s > ${ST_OUT}/bad.txt 2>&1; rc=$?; cat ${ST_OUT}/bad.txt; test $rc -eq 1 && grep -q -- '--duration 90s ends before the last fault can heal' ${ST_OUT}/bad.txt")
