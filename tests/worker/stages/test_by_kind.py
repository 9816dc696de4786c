"""The stage registry against the declared job kinds."""
from worker.jobspecs import JOB_KINDS
from worker.stages.by_kind import STAGES


def test_every_job_kind_has_a_stage_and_every_stage_a_kind():
    """Check that the registry's kinds are exactly the declared job kinds, so no kind
    fails at run time for want of a stage."""
    assert sorted(STAGES) == sorted(JOB_KINDS)
