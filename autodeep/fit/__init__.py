"""The stages of ``AutoModel.fit``, one module each, in the order ``fit`` calls them:

- ``settings``: the arguments checked (``check_settings``);
- ``prepare``: split, target codecs, preprocessors, arrays (``prepare_data``);
- ``budget``: the time budget: time shares, the search deadline, refit and fold estimates (``Budget``);
- ``trial``: one trial, an explicit picklable object (``TrialRun``); with the Searcher and the ``Budget``, it is
  all a worker process receives;
- ``search``: the Searcher run here or with workers, and the best trial;
- ``members``: greedy ensemble selection of the trials to export;
- ``final``: bag, refit and average the members; ``blend``: neighbour blending on top;
- ``export``: the artifact written and loaded back (its format: ``artifact``).
"""
