# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""`scoring.tally_into`, compiled: the counting workers' hot path.

Counting a response walks its answers, one dictionary lookup and a few additions each.
In Python that is about 0.25 us an answer, a third of a counting worker's time (decoding
and validating the event is the rest); here the answers' factor points add up in C
arrays, not in Python integers. `scoring.tally_into_python` is the definition: the tests
check that the two agree on any answers, valid or not.
"""

from cpython.dict cimport PyDict_GetItem, PyDict_Next
from cpython.long cimport PyLong_AsLongAndOverflow
from cpython.object cimport PyObject
from libc.string cimport memset

cdef enum:
    MAX_FACTORS = 64  # more factors than this: counted by the Python definition
    DONT_KNOW_SLOT = 5
    FACTOR_SLOTS = 3  # scored, score_sum, positive

cdef dict TEXT_SLOTS = {"dont_know": 5, "yes": 6, "no": 7}


def tally_into(list target not None, object layout, object answers):
    """Add one response to `target` (a vector of `layout`) in place."""
    if len(target) != layout.size:  # indexed unchecked below: a shorter list is memory
        raise ValueError(f"a vector of {len(target)} counters, the layout has {layout.size}")
    cdef tuple fields = layout.factor_fields
    cdef Py_ssize_t factors = len(fields)
    if factors > MAX_FACTORS or not isinstance(answers, dict):  # a mapping of another kind
        from forbedring_aggregation.domain.scoring import tally_into_python

        tally_into_python(target, layout, answers)
        return
    cdef dict slots = layout.answer_slots
    cdef long first_factor = fields[0][0] if factors else 0
    cdef long counted[MAX_FACTORS]
    cdef long points[MAX_FACTORS]
    memset(counted, 0, sizeof(counted))
    memset(points, 0, sizeof(points))

    cdef Py_ssize_t position = 0
    cdef PyObject* key
    cdef PyObject* value
    cdef PyObject* found
    cdef PyObject* found_text
    cdef tuple spec
    cdef long slot, base, factor_base, factor, answer
    cdef int overflow
    cdef bint sensitive = False
    while PyDict_Next(answers, &position, &key, &value):
        found = PyDict_GetItem(slots, <object>key)
        if found is NULL:
            continue  # not an item of the questionnaire
        if type(<object>value) is int:
            answer = PyLong_AsLongAndOverflow(<object>value, &overflow)
            if overflow or answer < 1 or answer > 5:
                continue
            slot = answer - 1
        elif type(<object>value) is str:
            found_text = PyDict_GetItem(TEXT_SLOTS, <object>value)
            if found_text is NULL:
                continue
            slot = <long><object>found_text
        else:
            continue  # bool, float, None...: not an answer
        spec = <tuple>found
        base = spec[0]
        target[base + slot] += 1
        factor_base = spec[1]
        if factor_base >= 0 and slot < DONT_KNOW_SLOT:
            factor = (factor_base - first_factor) // FACTOR_SLOTS
            counted[factor] += 1
            points[factor] += 4 - slot if spec[2] else slot
        if spec[3]:
            sensitive = True
    if sensitive:
        target[0] += 1  # SENSITIVE_RESPONDENTS

    cdef long unit = layout.unit
    cdef long m, total
    cdef Py_ssize_t i
    for i in range(factors):
        m = counted[i]
        if m:
            total = points[i]
            factor_base = first_factor + FACTOR_SLOTS * i
            target[factor_base] += 1
            target[factor_base + 1] += total * (unit // m)
            if total >= 3 * m:  # 25 * total / m >= 75
                target[factor_base + 2] += 1
