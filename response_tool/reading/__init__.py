"""Reading: the Qt-free reading session, the read store and adjudication.

The napari plugin is a set of views over :class:`~response_tool.reading.session.ReadingSession`;
everything a reader does is decided here, so it is tested without napari.
"""
