"""The crawler's parts, each with one job; :class:`lineage.crawl.Crawler` runs them in order.

Data flows one way, from the request to the commit::

    Crawler.run (lineage.crawl)
      -> listing.Lister.collect         the family and its known parents, by mode: a whole-Hub
         |                              sweep, a walk or sweep for roots, an update (new)
         +-> roots.RootResolver         the requested roots as Hub ids (organizations listed)
         +-> parents.ParentLookup       (a sweep for roots looks parents up before splitting)
      -> parents.ParentLookup.look_up   the family's unknown parents, within the budget
      -> parents.assemble               what the commit writes
      -> summaries.summarize            what the run tells the user and the crawl log

Every part works through one :class:`~lineage.crawling.session.CrawlRun`: the run's
journal, client, clock and counters, made fresh by each :meth:`Crawler.run`. No part
imports :mod:`lineage.crawl`; each returns what it found instead of setting state on
another.
"""
